"""The product backlog of customers' suggestions: similar suggestions become one item with votes."""
