"""Lightning modules (one per task, with its paper's loss, optimiser and schedule) and data modules."""
