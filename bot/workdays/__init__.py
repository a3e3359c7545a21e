"""The working-day calendar: Kazakhstan's public holidays, the official transfers of days off,
and the secretariat's own days off and working days."""
