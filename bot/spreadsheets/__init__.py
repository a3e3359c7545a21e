"""Office formats: Excel import and export, statistics and the DOCX risk report."""
