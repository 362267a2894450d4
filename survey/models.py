"""What a study is made of, and what participants leave behind."""

from __future__ import annotations

import secrets
import uuid

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
        PILOT = "pilot", "Pilot (before opening)"
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
    unique_completion_codes = models.BooleanField(
        default=False,
        help_text="Give each participant a code of their own, to check in the admin when approving them.",
    )
    attention_allowance = models.PositiveIntegerField(
        default=0, help_text="How many attention checks a participant may fail and still be analysed."
    )
    expected_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="How long the study takes, shown on the landing page. Empty: the median of completed "
        "participants, once there are enough.",
    )
    class_names = models.JSONField(
        default=dict,
        blank=True,
        help_text='How participants see each class: {"diningtable": "dining table"}.',
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
    # Changes whenever the study's conditions, questions, explanations or examples do: the key under which
    # a server process keeps them in memory (survey.selectors.content). Never reused, unlike ids on SQLite.
    content_version = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def takes_participants(self) -> bool:
        """Open, or piloting: people may start (pilot participants are kept apart)."""
        return self.status in {self.Status.OPEN, self.Status.PILOT}

    def class_label(self, name: str) -> str:
        """How participants see the class ``name``."""
        return self.class_names.get(name) or name


class Condition(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="conditions")
    key = models.SlugField(max_length=50)
    name = models.CharField(max_length=200)
    intro = models.TextField(blank=True, help_text="How to read this explanation (shown before questions).")
    comprehension = models.JSONField(
        default=list,
        blank=True,
        help_text='Asked after the introduction until answered right: [{"prompt": ..., "choices": [...], '
        '"answer": one of the choices}].',
    )
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
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
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
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["question", "condition"], name="explanation_unique")]

    def __str__(self) -> str:
        return f"{self.question.key} / {self.condition.key}"


class ExtraQuestion(models.Model):
    """A question that is not one of the study's: a practice question, or an attention check.

    They are kept apart from Question, and their answers apart from Answer, so that nothing that counts
    the study's questions or answers ever counts them.
    """

    class Role(models.TextChoices):
        PRACTICE = "practice", "Practice (with feedback, not counted)"
        ATTENTION = "attention", "Attention check"

    class Kind(models.TextChoices):
        QUESTION = "question", "A question like the study's"
        INSTRUCTED = "instructed", "Instructed response (the text says which option to choose)"
        IMAGE = "image", "An image whose class is unmistakable"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="extra_questions")
    role = models.CharField(max_length=10, choices=Role.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.QUESTION)
    key = models.CharField(max_length=100)
    image = models.ImageField(upload_to="studies/images/")
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    labels = models.JSONField(default=list, blank=True, help_text="True labels of the image, if known.")
    prediction = models.CharField(max_length=100, blank=True, help_text="The model's top class, if known.")
    options = models.JSONField(
        default=list, help_text="Four distinct classes; the platform adds 'can't tell'."
    )
    answer = models.CharField(
        max_length=100, help_text="The expected option: the prediction in practice, the check's answer."
    )
    instruction = models.CharField(
        max_length=300, blank=True, help_text="Shown under the question (an instructed response's)."
    )
    position = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Attention checks: shown after this many questions; empty: at random.",
    )
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["role", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["study", "key"], name="extra_question_key_unique")]

    def __str__(self) -> str:
        return f"{self.key} ({self.get_role_display()})"

    @property
    def model_correct(self) -> bool:
        return self.prediction in self.labels


class ExtraExplanation(models.Model):
    question = models.ForeignKey(ExtraQuestion, on_delete=models.CASCADE, related_name="explanations")
    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="extra_explanations")
    image = models.ImageField(upload_to="studies/explanations/")
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "condition"], name="extra_explanation_unique")
        ]

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
    comprehension_passed_at = models.DateTimeField(null=True, blank=True)
    # When the last practice question was answered; set at the start when the study has none.
    practice_done_at = models.DateTimeField(null=True, blank=True)
    # Started while the study was a pilot: recorded, shown apart, and left out of the analysis by default.
    is_pilot = models.BooleanField(default=False)
    # Where the attention checks come: [[after this many questions, extra question id], ...], in order.
    attention_slots = models.JSONField(default=list, blank=True)
    attention_failures = models.PositiveIntegerField(default=0)
    # More failures than the study allows: left out of the analysis by default.
    attention_failed = models.BooleanField(default=False)
    # The participant's own code, when the study gives unique codes; set on completion.
    completion_code = models.CharField(max_length=32, blank=True)
    # Study questions and attention checks answered. They are answered in order, so this says where the
    # participant is without reading their answers; it is also the version an answer's write checks.
    answered_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["study", "status", "last_seen_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["completion_code"],
                condition=~models.Q(completion_code=""),
                name="participant_completion_code_unique",
            )
        ]

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
    response_ms = models.PositiveIntegerField(
        help_text="Server time: from the page's first request to the answer."
    )
    client_response_ms = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Browser time: from both images shown to the click; empty without JS.",
    )

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


class ExtraAnswer(models.Model):
    """An answer to a practice question or an attention check: never one of the study's answers."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="extra_answers")
    question = models.ForeignKey(ExtraQuestion, on_delete=models.PROTECT, related_name="answers")
    option = models.CharField(max_length=100)
    correct = models.BooleanField(help_text="The expected option: the prediction, or the check's answer.")
    position = models.PositiveIntegerField(help_text="1-based, among everything of its kind shown.")
    option_order = models.JSONField(default=list)
    shown_at = models.DateTimeField()
    answered_at = models.DateTimeField()
    response_ms = models.PositiveIntegerField()
    client_response_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["participant", "answered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "question"], name="one_extra_answer_per_question")
        ]

    def __str__(self) -> str:
        return f"{self.participant.token[:8]}… {self.question.key}: {self.option}"


class ComprehensionAnswer(models.Model):
    """One attempt at one comprehension question of the participant's condition; every attempt is kept."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="comprehension_answers"
    )
    number = models.PositiveIntegerField(help_text="1-based, in the condition's list.")
    prompt = models.TextField(help_text="The question as asked.")
    choice = models.CharField(max_length=300)
    correct = models.BooleanField()
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["participant", "answered_at", "number", "id"]

    def __str__(self) -> str:
        return f"{self.participant.token[:8]}… #{self.number}: {'right' if self.correct else 'wrong'}"
