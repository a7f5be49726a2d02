"""The calibrated simulator: years of circulation produced by driving the lending core's
own use cases with a simulated clock."""
