"""Time: the working-day calendar, schedules, reminders and the scheduled jobs."""
