"""Status collection: rounds, the update service and the dialog's views."""
