"""What the database knows of checkpoints, render jobs and the images they write."""

from __future__ import annotations

from pathlib import Path

from django.db import models

from explainers.methods import DEFAULT_METHODS


class Checkpoint(models.Model):
    """A classifier or decoder file on disk, fingerprinted when it was registered."""

    class Kind(models.TextChoices):
        CLASSIFIER = "classifier", "Classifier"
        DECODER = "decoder", "Decoder"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    name = models.CharField(max_length=200, blank=True)
    path = models.CharField(max_length=1000, help_text="Absolute path of the checkpoint file.")
    sha256 = models.CharField(max_length=64, editable=False)
    config = models.JSONField(default=dict, editable=False, help_text="The network's config, from the file.")
    metrics = models.JSONField(default=dict, editable=False, help_text="Training metrics, from the file.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["path", "sha256"], name="checkpoint_file_unique")]

    def __str__(self) -> str:
        return f"{self.name or Path(self.path).name} ({self.kind}, {self.sha256[:8]})"


def default_methods() -> list[str]:
    return list(DEFAULT_METHODS)


class RenderJob(models.Model):
    """Render a study's images with a classifier and a decoder, then import them as a Study."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    slug = models.SlugField(help_text="Slug of the study this job creates.")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    classifier = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="classifier_jobs")
    decoder = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="decoder_jobs")
    dataset_root = models.CharField(max_length=1000, help_text="VOC folder (JPEGImages, Annotations, …).")
    split = models.CharField(max_length=50, default="test")
    n_correct = models.PositiveIntegerField(default=16, help_text="Questions where the model is right.")
    n_wrong = models.PositiveIntegerField(default=14, help_text="Questions where the model is wrong.")
    allow_shortfall = models.BooleanField(
        default=False, help_text="Fill from the other pool when the split lacks right or wrong images."
    )
    seed = models.BigIntegerField(default=0)
    methods = models.JSONField(
        default=default_methods,
        help_text="Explanation methods (explainers.methods), one condition each, in order.",
    )
    saliency = models.CharField(
        max_length=20, default="gradcam", help_text="Saliency behind the masks: gradcam or gradcam++."
    )
    difficult = models.CharField(
        max_length=10,
        choices=[("labels", "Difficult objects are labels"), ("ignore", "Ignore difficult-only classes")],
        default="labels",
        help_text="Whether objects marked difficult count as true labels (the authors' choice).",
    )
    image_size = models.PositiveIntegerField(help_text="Side of the square images shown (the classifier's).")
    chunk_size = models.PositiveIntegerField(
        default=32, help_text="Images per render task; workers share a job's tasks among them."
    )
    import_study = models.BooleanField(
        default=True, help_text="Import the bundle as a study; off when the bundle is handed on (the demo)."
    )
    open_study = models.BooleanField(default=False, help_text="Open the study once it is imported.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(default=0, help_text="Images to render (questions and example).")
    done = models.PositiveIntegerField(default=0, help_text="Images fully rendered.")
    error = models.TextField(blank=True)
    note = models.TextField(blank=True, help_text="How the questions were picked, and any shortfall.")
    selection = models.JSONField(
        default=dict, blank=True, help_text="The selection rule, split, seed and counts (study.json's)."
    )
    output_dir = models.CharField(max_length=1000, blank=True)
    study = models.ForeignKey(
        "survey.Study", on_delete=models.SET_NULL, null=True, blank=True, related_name="render_jobs"
    )
    celery_task_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.slug} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}

    @property
    def progress(self) -> str:
        return f"{self.done}/{self.total}" if self.total else "-"


class RenderQuestion(models.Model):
    """One image a job picked from the split: a survey question, the intros' example, a practice question
    or an attention check."""

    class Role(models.TextChoices):
        QUESTION = "question", "Question"
        EXAMPLE = "example", "Example in the introductions"
        PRACTICE = "practice", "Practice question"
        ATTENTION = "attention", "Attention check: an unmistakable image"
        INSTRUCTED = "instructed", "Attention check: an instructed response"

    job = models.ForeignKey(RenderJob, on_delete=models.CASCADE, related_name="questions")
    key = models.CharField(max_length=100, help_text="The dataset's image id.")
    order = models.PositiveIntegerField()
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.QUESTION)
    labels = models.JSONField(default=list)
    prediction = models.CharField(max_length=100)
    confidence = models.FloatField(help_text="Posterior of the predicted class.")
    model_correct = models.BooleanField()
    options = models.JSONField(default=list)
    prediction_set = models.JSONField(default=list, help_text="Classes with posterior > 0.5, highest first.")
    posteriors = models.JSONField(default=dict, help_text="Every class's posterior, to 4 decimals.")
    # While a render task works on the question it holds a claim, so no other worker renders it too; a
    # worker that dies leaves its claim, which only the same task, delivered again, may take over.
    claimed_by = models.CharField(max_length=255, blank=True, help_text="The render task rendering it now.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(
        default=0, help_text="Renders started; more than one means a worker died and another redid it."
    )
    rendered_by = models.CharField(max_length=255, blank=True, help_text="The worker that rendered it.")

    class Meta:
        ordering = ["job", "order"]
        constraints = [models.UniqueConstraint(fields=["job", "key"], name="render_question_key_unique")]

    def __str__(self) -> str:
        return f"{self.key} ({self.prediction if self.role == self.Role.QUESTION else self.role})"


class RenderedImage(models.Model):
    """A PNG a job wrote; its row exists only once the file is complete."""

    question = models.ForeignKey(RenderQuestion, on_delete=models.CASCADE, related_name="images")
    kind = models.CharField(
        max_length=32, help_text="input, reconstruction, or an explanation method's key (explainers.methods)."
    )
    path = models.CharField(max_length=1000, help_text="Relative to the job's output folder.")
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["question", "kind"]
        constraints = [models.UniqueConstraint(fields=["question", "kind"], name="rendered_image_unique")]

    def __str__(self) -> str:
        return f"{self.question.key} / {self.kind}"


class SelectionDryRun(models.Model):
    """The dry run of a study build, run by a render worker: what a job would pick, with nothing written."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    classifier = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="dry_runs")
    dataset_root = models.CharField(max_length=1000)
    split = models.CharField(max_length=50)
    n_correct = models.PositiveIntegerField()
    n_wrong = models.PositiveIntegerField()
    seed = models.BigIntegerField(default=0)
    difficult = models.CharField(max_length=10, default="labels")
    saliency = models.CharField(max_length=20, default="gradcam")
    allow_shortfall = models.BooleanField(default=False)
    build = models.JSONField(
        default=dict, blank=True, help_text="The build form as it was sent, to refill it."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    audit = models.JSONField(default=dict, blank=True, help_text="The selection summary (study.json's).")
    picks = models.JSONField(default=list, blank=True, help_text="Each picked image with its P and options.")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"dry run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}
