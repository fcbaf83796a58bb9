"""Query terms rotated through by the search benchmarks: words the archive's stories actually use."""

TERMS = [
    "housing", "bus", "garden", "school", "food", "pantry", "river", "library", "kitchen", "job",
    "grandmother", "grandson", "neighbors", "community", "teacher", "winter", "spring", "church", "computer",
    "diploma", "trees", "fish", "bottles", "crosswalk", "sidewalk", "meeting", "apprentice", "machinist",
    "blueprints", "tenants", "bakery", "roof", "heat", "window", "seeds", "tomatoes", "beans", "carpenter",
    "shelter", "transit", "learning", "work", "home", "family", "safe",
]
