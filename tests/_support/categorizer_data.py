"""Shared test data for the categoriser tests: a six-category slice that trains in seconds."""

SIX = frozenset(
    {
        "FOOD_AND_DRINK_COFFEE",
        "TRANSPORTATION_GAS",
        "INCOME_SALARY",
        "FOOD_AND_DRINK_GROCERIES",
        "BANK_FEES_OVERDRAFT_FEES",
        "RENT_AND_UTILITIES_WATER",
    }
)
