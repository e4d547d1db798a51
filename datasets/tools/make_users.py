"""Write datasets/feeds/users/page-001.json ... page-020.json: RandomUser-shaped API pages.

Why: seed 001 polls https://randomuser.me/api and streams the nested responses. The feed
server (python -m feeds) answers GET /users with these pages in turn, so the example runs
offline. Regenerate with `python datasets/tools/make_users.py [--out DATASETS_DIR]`;
output is byte-identical.

Each page is {"results": [5 users], "info": {"seed", "results", "page", "version"}} with the
RandomUser v1.4 user fields: gender, name, location (street, city, state, country,
postcode, coordinates as strings, timezone), email, login (uuid, username), dob and
registered ({date, age}, ages at 2024-03-12), phone, cell, id ({name, value}), nat.
login.password, salt, hashes and picture are left out on purpose.

All people are invented: first and last names drawn at random from small lists, emails at
example.com, phone numbers in ranges reserved for fiction (FR 01 99 00, 06 39 98; GB 0113
496 0, 07700 900; US 555-01xx; DE 030 23125), ids in never-issued ranges (US SSN 9xx, GB
NINO prefix QQ, FR INSEE born-abroad code 99). login.uuid is unique per user.

Quirks kept from the real API: location.postcode is a number except for GB (a string), and
DE users have id {"name": "", "value": null}.
"""

from __future__ import annotations

import random
import sys
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from example_io import out_dir, write_feed

PAGES = 20
PER_PAGE = 5
SEED = "5f7a1c0e3b9d2468"
AS_OF = datetime(2024, 3, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Country:
    name: str
    men: tuple[str, ...]
    women: tuple[str, ...]
    surnames: tuple[str, ...]
    streets: tuple[str, ...]
    # (city, state, UTC offset, timezone description)
    cities: tuple[tuple[str, str, str, str], ...]
    lat: tuple[float, float]
    lon: tuple[float, float]


_CET = ("+1:00", "Brussels, Copenhagen, Madrid, Paris")
COUNTRIES = {
    "FR": Country(
        "France",
        ("Lucas", "Hugo", "Louis", "Nathan", "Théo", "Arthur", "Jules", "Gabriel"),
        ("Léa", "Chloé", "Manon", "Camille", "Inès", "Jade", "Zoé", "Louise"),
        ("Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Fontaine", "Girard", "Roux"),
        ("Rue de la Gare", "Rue des Écoles", "Place du Marché", "Avenue des Tilleuls",
         "Rue du Moulin", "Chemin des Vignes"),
        (("Toulouse", "Haute-Garonne", *_CET), ("Nantes", "Loire-Atlantique", *_CET),
         ("Lyon", "Rhône", *_CET), ("Lille", "Nord", *_CET), ("Rennes", "Ille-et-Vilaine", *_CET)),
        (43.0, 50.5), (-1.5, 7.0),
    ),
    "GB": Country(
        "United Kingdom",
        ("Oliver", "Harry", "Jack", "George", "Noah", "Charlie"),
        ("Olivia", "Amelia", "Isla", "Ava", "Emily", "Grace"),
        ("Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Walker"),
        ("Church Lane", "Station Road", "Mill Road", "Park Avenue", "The Green"),
        tuple((city, county, "0:00", "Western Europe Time, London, Lisbon, Casablanca")
              for city, county in (("Leeds", "West Yorkshire"), ("Bristol", "Avon"),
                                   ("York", "North Yorkshire"), ("Norwich", "Norfolk"))),
        (50.5, 55.5), (-3.5, 1.5),
    ),
    "US": Country(
        "United States",
        ("James", "Liam", "Ethan", "Mason", "Logan", "Owen"),
        ("Emma", "Sophia", "Mia", "Harper", "Ella", "Avery"),
        ("Johnson", "Miller", "Davis", "Garcia", "Clark", "Lewis", "Young"),
        ("Oak Ridge Ln", "Maple Ave", "Hickory Creek Dr", "Lakeview St", "Pine Rd"),
        (("Portland", "Oregon", "-8:00", "Pacific Time (US & Canada)"),
         ("Denver", "Colorado", "-7:00", "Mountain Time (US & Canada)"),
         ("Austin", "Texas", "-6:00", "Central Time (US & Canada), Mexico City"),
         ("Columbus", "Ohio", "-5:00", "Eastern Time (US & Canada), Bogota, Lima")),
        (30.0, 47.0), (-120.0, -75.0),
    ),
    "DE": Country(
        "Germany",
        ("Lukas", "Felix", "Jonas", "Paul", "Leon", "Finn"),
        ("Hannah", "Lena", "Lea", "Marie", "Emilia", "Clara"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker"),
        ("Bahnhofstraße", "Gartenstraße", "Lindenweg", "Schulstraße", "Am Markt"),
        (("Leipzig", "Sachsen", *_CET), ("Bremen", "Bremen", *_CET),
         ("Kassel", "Hessen", *_CET), ("Münster", "Nordrhein-Westfalen", *_CET)),
        (47.5, 54.5), (6.0, 14.5),
    ),
}  # fmt: skip
NATS = ("FR", "FR", "GB", "US", "DE")  # France twice as likely: the seeds are French
ADJECTIVES = ("happy", "silver", "brave", "quiet", "orange", "lazy", "heavy", "tiny", "golden")
ANIMALS = ("fox", "panda", "owl", "wolf", "tiger", "swan", "koala", "goose", "rabbit", "lion")


def ascii_lower(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return folded.lower().replace(" ", "")


def moment(rng: random.Random, first_year: int, last_year: int) -> datetime:
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    span = datetime(last_year + 1, 1, 1, tzinfo=UTC) - start
    return start + timedelta(milliseconds=rng.randrange(int(span.total_seconds() * 1000)))


def dated(when: datetime) -> dict[str, Any]:
    age = AS_OF.year - when.year - ((AS_OF.month, AS_OF.day) < (when.month, when.day))
    return {
        "date": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
        "age": age,
    }


def digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def phones(nat: str, rng: random.Random) -> tuple[str, str]:
    if nat == "FR":
        return (
            f"01-99-00-{digits(rng, 2)}-{digits(rng, 2)}",
            f"06-39-98-{digits(rng, 2)}-{digits(rng, 2)}",
        )
    if nat == "GB":
        return f"0113 496 0{digits(rng, 3)}", f"07700 900{digits(rng, 3)}"
    if nat == "US":
        return (
            f"({rng.randint(201, 989)}) 555-01{digits(rng, 2)}",
            f"({rng.randint(201, 989)}) 555-01{digits(rng, 2)}",
        )
    return f"030-23125{digits(rng, 3)}", f"030-23125{digits(rng, 3)}"


def _letters(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("ABDEFGHJLNPQRSTUWXYZ") for _ in range(count))


def postcode(nat: str, rng: random.Random) -> int | str:
    if nat == "GB":
        area, district = _letters(rng, 2), rng.randint(1, 29)
        sector, unit = rng.randint(1, 9), _letters(rng, 2)
        return f"{area}{district} {sector}{unit}"
    return rng.randint(10000, 99999)


def national_id(nat: str, male: bool, born: datetime, rng: random.Random) -> dict[str, Any]:
    if nat == "FR":
        number = f"{1 if male else 2}{born:%y%m}99{digits(rng, 6)}"
        return {"name": "INSEE", "value": f"{number} {97 - int(number) % 97:02d}"}
    if nat == "GB":
        return {
            "name": "NINO",
            "value": f"QQ {digits(rng, 2)} {digits(rng, 2)} {digits(rng, 2)} {rng.choice('ABCD')}",
        }
    if nat == "US":
        return {"name": "SSN", "value": f"9{digits(rng, 2)}-{digits(rng, 2)}-{digits(rng, 4)}"}
    return {"name": "", "value": None}


class Users:
    """Draws users one after another from one RNG, keeping usernames and emails unique."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.usernames, self.emails = rng, set[str](), set[str]()

    def _unique(self, seen: set[str], make: Callable[[], str]) -> str:
        while (value := make()) in seen:
            pass
        seen.add(value)
        return value

    def user(self) -> dict[str, Any]:
        rng = self.rng
        nat = rng.choice(NATS)
        country = COUNTRIES[nat]
        male = rng.random() < 0.5
        first = rng.choice(country.men if male else country.women)
        last = rng.choice(country.surnames)
        city, state, offset, zone = rng.choice(country.cities)
        born = moment(rng, 1950, 2004)
        phone, cell = phones(nat, rng)
        email = self._unique(
            self.emails,
            lambda: (
                f"{ascii_lower(first)}.{ascii_lower(last)}{rng.choice(['', digits(rng, 2)])}@example.com"
            ),
        )
        username = self._unique(
            self.usernames,
            lambda: f"{rng.choice(ADJECTIVES)}{rng.choice(ANIMALS)}{rng.randint(100, 999)}",
        )
        return {
            "gender": "male" if male else "female",
            "name": {
                "title": "Mr" if male else rng.choice(("Ms", "Mrs", "Miss")),
                "first": first,
                "last": last,
            },
            "location": {
                "street": {"number": rng.randint(1, 9999), "name": rng.choice(country.streets)},
                "city": city,
                "state": state,
                "country": country.name,
                "postcode": postcode(nat, rng),
                "coordinates": {
                    "latitude": f"{rng.uniform(*country.lat):.4f}",
                    "longitude": f"{rng.uniform(*country.lon):.4f}",
                },
                "timezone": {"offset": offset, "description": zone},
            },
            "email": email,
            "login": {
                "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "username": username,
            },
            "dob": dated(born),
            "registered": dated(moment(rng, max(2003, born.year + 16), 2022)),
            "phone": phone,
            "cell": cell,
            "id": national_id(nat, male, born, rng),
            "nat": nat,
        }


def page(number: int, users: Users) -> dict[str, Any]:
    results = [users.user() for _ in range(PER_PAGE)]
    return {
        "results": results,
        "info": {"seed": SEED, "results": PER_PAGE, "page": number, "version": "1.4"},
    }


def main(out: Path) -> list[Path]:
    users = Users(random.Random("streamlab-users"))
    return write_feed(
        out / "feeds" / "users", "page", (page(n, users) for n in range(1, PAGES + 1))
    )


if __name__ == "__main__":
    for path in main(out_dir(__doc__.splitlines()[0], sys.argv[1:])):
        print(path)
