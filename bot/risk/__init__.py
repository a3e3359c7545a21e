"""Risk: rules, assessment, dismissals, chair alerts, the digest and its chart."""
