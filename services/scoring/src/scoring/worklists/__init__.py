"""Score work-lists: the customers to act on, filtered and sorted, as pages or CSV."""
