"""A tenant's books and the bookkeeping that changes them, shared by the seed and the daily activity."""
