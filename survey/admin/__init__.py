"""The researcher's side: studies with their conditions and questions, and read-only participants and answers.

A study's structure (classes, conditions and their examples, questions and their explanations) changes
only while it is a draft nobody has taken part in. Once open, a change could hand participants a question
without an explanation; once anyone has answered, it would silently change what their answers mean.

Split by subject; importing the modules registers their admins.
"""

from __future__ import annotations

from survey.admin import conditions, extras, participants, questions, studies

__all__ = ["conditions", "extras", "participants", "questions", "studies"]
