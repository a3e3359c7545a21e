"""People, roles and one-time invitations."""
