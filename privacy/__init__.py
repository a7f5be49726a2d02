"""Privacy: the rules of what is personal data and how small a published number may be
(`privacy.rules`, imported by every step), and the scan that looks for personal data past
the lending core."""
