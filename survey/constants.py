"""Values the survey shares with code that must run without Django (analysis.stats, analysis.plots)."""

from __future__ import annotations

# The option every question offers besides its four classes, and how participants see it.
CANT_TELL = "cant_tell"
CANT_TELL_LABEL = "I just can't tell"

# Each question offers this many classes: the model's prediction and three others.
OPTIONS_PER_QUESTION = 4

# The landing page's time estimate comes from the median of completed participants once this many have
# completed (pilots included: piloting is how a study learns its length), unless the study sets one.
TIME_ESTIMATE_MIN_COMPLETED = 5
