"""Write datasets/data/cars/: the cars example's dimension tables (cars, models, colors).

Why: seed 003 generates car telemetry (car_id, speed, rpm, gear), enriches each event with
the car's driver, brand, model and colour from three dimension tables, derives the
expected gear from the speed and counts bad driving per colour. The stream is the
streamer's synthetic source (datasets/cars.yaml); these are the tables its lookups join.
Regenerate with `python datasets/tools/make_cars.py [--out DATASETS_DIR]`; output is
byte-identical.

Writes
- data/cars/cars.csv: car_id,driver_id,model_id,color_id for 20 cars; car_id a 7-digit
  and driver_id a 9-digit number as in the seed, both unique. Every model and every colour
  is used by at least two cars, so each colour has its own alert counts.
- data/cars/models.csv: model_id,brand_name,model_name for 7 models.
- data/cars/colors.csv: color_id,color_name for 7 colours.

datasets/cars.yaml lists the same car_ids, in this file's order, as the values of its
car_id tag (tests/unit/test_example_data.py checks that they agree).
"""

from __future__ import annotations

import csv
import io
import random
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from example_io import out_dir, write

CARS = 20
MODELS = (
    ("Toyota", "Corolla"), ("Renault", "Clio"), ("Peugeot", "208"), ("Volkswagen", "Golf"),
    ("Tesla", "Model 3"), ("Ford", "Focus"), ("Fiat", "500"),
)  # fmt: skip
COLORS = ("Black", "White", "Silver", "Red", "Blue", "Grey", "Green")


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def spread(rng: random.Random, ids: Sequence[int], count: int) -> list[int]:
    """count ids drawn so that each id is used at least count // len(ids) times."""
    pool = list(ids) * -(-count // len(ids))
    rng.shuffle(pool)
    return pool[:count]


def unique_numbers(rng: random.Random, count: int, digits: int) -> list[int]:
    numbers: set[int] = set()
    while len(numbers) < count:
        numbers.add(rng.randint(10 ** (digits - 1), 10**digits - 1))
    return sorted(numbers)


def cars(rng: random.Random) -> list[tuple[int, int, int, int]]:
    car_ids = unique_numbers(rng, CARS, 7)
    driver_ids = unique_numbers(rng, CARS, 9)
    rng.shuffle(driver_ids)
    models = spread(rng, range(1, len(MODELS) + 1), CARS)
    colors = spread(rng, range(1, len(COLORS) + 1), CARS)
    return list(zip(car_ids, driver_ids, models, colors, strict=True))


def main(out: Path) -> list[Path]:
    rng = random.Random("streamlab-cars")
    folder = out / "data" / "cars"
    return [
        write(
            folder / "cars.csv",
            table(("car_id", "driver_id", "model_id", "color_id"), cars(rng)),
        ),
        write(
            folder / "models.csv",
            table(
                ("model_id", "brand_name", "model_name"),
                ((i, brand, model) for i, (brand, model) in enumerate(MODELS, start=1)),
            ),
        ),
        write(
            folder / "colors.csv",
            table(("color_id", "color_name"), enumerate(COLORS, start=1)),
        ),
    ]


if __name__ == "__main__":
    for path in main(out_dir(__doc__.splitlines()[0], sys.argv[1:])):
        print(path)
