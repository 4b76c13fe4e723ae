"""How complaints are put right: the cause taxonomy, and each resolution's cause, remedy and compensation."""
