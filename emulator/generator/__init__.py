"""Seeded, realistic Segment event streams built with Faker."""
