"""What a study is made of, and what participants leave behind."""

from __future__ import annotations

import secrets

from django.db import models

# Re-exported: the survey's code and its tests know these as survey.models' own.
from survey.constants import CANT_TELL as CANT_TELL
from survey.constants import CANT_TELL_LABEL as CANT_TELL_LABEL


def new_token() -> str:
    return secrets.token_urlsafe(24)


def new_salt() -> str:
    return secrets.token_hex(16)


class Study(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class Policy(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round robin (conditions in turn)"
        BALANCED_COMPLETION = "balanced_completion", "Balanced by completion"

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Shown on the landing page.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    assignment_policy = models.CharField(max_length=32, choices=Policy.choices, default=Policy.ROUND_ROBIN)
    classes = models.JSONField(default=list, help_text="Every class label the study may show.")
    completion_code = models.CharField(max_length=64, blank=True)
    completion_redirect_url = models.URLField(
        blank=True, help_text="If set, participants are sent here on completion (Prolific)."
    )
    abandon_after_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Inactivity before a participant counts as abandoned."
    )
    selection = models.JSONField(
        default=dict, blank=True, help_text="How the questions were selected: rule, split, seed and counts."
    )
    saliency = models.CharField(
        max_length=20, blank=True, help_text="What made the explanation masks (gradcam, gradcam++), if known."
    )
    # Round-robin assignment locks this row and reads/increments the counter (never count-then-insert).
    assignment_counter = models.PositiveIntegerField(default=0, editable=False)
    hash_salt = models.CharField(max_length=64, default=new_salt, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Condition(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="conditions")
    key = models.SlugField(max_length=50)
    name = models.CharField(max_length=200)
    intro = models.TextField(blank=True, help_text="How to read this explanation (shown before questions).")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["study", "key"], name="condition_key_unique")]

    def __str__(self) -> str:
        return f"{self.name} [{self.key}]"


class ConditionExample(models.Model):
    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="examples")
    image = models.ImageField(upload_to="studies/examples/")
    caption = models.CharField(max_length=300, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.caption or self.image.name


class Question(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="questions")
    key = models.CharField(max_length=100)
    image = models.ImageField(upload_to="studies/images/")
    labels = models.JSONField(default=list, help_text="True labels of the image.")
    prediction = models.CharField(max_length=100, help_text="The model's top class.")
    model_correct = models.BooleanField()
    options = models.JSONField(default=list, help_text="Four distinct classes, the prediction among them.")
    prediction_set = models.JSONField(
        default=list, blank=True, help_text="Classes with posterior > 0.5, highest first (audit)."
    )
    posteriors = models.JSONField(default=dict, blank=True, help_text="Every class's posterior (audit).")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["study", "key"], name="question_key_unique")]

    def __str__(self) -> str:
        return self.key


class Explanation(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="explanations")
    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="explanations")
    image = models.ImageField(upload_to="studies/explanations/")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["question", "condition"], name="explanation_unique")]

    def __str__(self) -> str:
        return f"{self.question.key} / {self.condition.key}"


class Participant(models.Model):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        ABANDONED = "abandoned", "Abandoned"

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="participants")
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="participants")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    seed = models.BigIntegerField()
    question_order = models.JSONField(default=list, help_text="Question ids in the order shown.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    # Salted hashes of Prolific's ids: never the raw values.
    prolific_pid_hash = models.CharField(max_length=64, blank=True)
    study_id_hash = models.CharField(max_length=64, blank=True)
    session_id_hash = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    intro_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # When the current question was first shown; the next answer's response time starts here.
    current_shown_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["study", "status", "last_seen_at"])]

    def __str__(self) -> str:
        return f"{self.token[:8]}… ({self.condition.key})"


class Answer(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    option = models.CharField(max_length=100, help_text="Chosen class label, or 'cant_tell'.")
    position = models.PositiveIntegerField(help_text="1-based position in the participant's order.")
    option_order = models.JSONField(default=list, help_text="Option ids in the order shown.")
    shown_at = models.DateTimeField()
    answered_at = models.DateTimeField()
    response_ms = models.PositiveIntegerField()

    class Meta:
        ordering = ["participant", "position"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "question"], name="one_answer_per_question")
        ]

    def __str__(self) -> str:
        return f"{self.participant.token[:8]}… #{self.position}: {self.option}"

    @property
    def is_correct(self) -> bool:
        """Simulatability: the participant guessed the model's prediction."""
        return self.option == self.question.prediction
