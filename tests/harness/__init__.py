"""Test harness: the real Apache services from the images' Maven coordinates, run locally."""
