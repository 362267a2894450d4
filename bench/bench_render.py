"""Rendering at scale: the whole pipeline against explain() alone, and one render worker against two.

    python bench/bench_render.py [--images 16] [--rounds 4] [--threads 1] [--workers-rounds 2]

1. End to end, in this process, on the CPU, with the paper's networks (ResNet-50 at 224 px and its
   decoder; random weights, the head biased so that every image's prediction set is {aeroplane} and
   most images are eligible): a render job over a synthetic VOC split that renders every eligible image,
   timed from the first prediction to the imported study, against explain() on the same images,
   preloaded as tensors, on the same networks, batch size and threads. The ratio is explain()'s time
   over the job's, i.e. the job's throughput as a fraction of explain()'s; rounds alternate the order.
   It is given in wall-clock time and in this process's CPU time, which other processes disturb less.
   "warm" jobs find the networks loaded (a worker's every job but its first); "cold" is a process's
   first job, hashing and loading the checkpoints included.
2. Workers, when BENCH_DATABASE_URL (PostgreSQL) and BENCH_BROKER_URL (Redis) are set: the same job by
   one Celery worker with every thread (--cores), then by two with half each, on a queue of its own;
   rounds alternate. Startup is not timed: the clock runs from enqueueing to the imported study.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="bench-render-"))
DATABASE = os.environ.get("BENCH_DATABASE_URL", "")
BROKER = os.environ.get("BENCH_BROKER_URL", "")
QUEUE = f"render-bench-{uuid.uuid4().hex[:8]}"


def database_url() -> str:
    """A fresh PostgreSQL database on BENCH_DATABASE_URL's server, or a throw-away SQLite file."""
    if not (DATABASE and BROKER):
        return f"sqlite:///{WORK}/bench.sqlite3"
    import psycopg

    name = f"bench_render_{os.getpid()}"
    with psycopg.connect(DATABASE, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{DATABASE.rsplit('/', 1)[0]}/{name}"


os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings",
    DEBUG="0",
    SECRET_KEY="bench-only",
    ALLOWED_HOSTS="testserver",
    DATABASE_URL=database_url(),
    MEDIA_ROOT=str(WORK / "media"),
    STATIC_ROOT=str(WORK / "static"),
    EXPLAINERS_RENDER_ROOT=str(WORK / "renders"),
    EXPLAINERS_RENDER_QUEUE=QUEUE,
    CELERY_BROKER_URL=BROKER,
    LOG_LEVEL="WARNING",
)

import django  # noqa: E402

django.setup()

import torch  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from explainers.models import Checkpoint, RenderJob  # noqa: E402
from explainers.nn.classifier import ClassifierConfig, classifier_build, classifier_save  # noqa: E402
from explainers.nn.data import VOC_CLASSES, write_synthetic_voc  # noqa: E402
from explainers.nn.decoder import Decoder, DecoderConfig, decoder_save  # noqa: E402
from explainers.nn.perception import explain  # noqa: E402
from explainers.services import inference, jobs  # noqa: E402
from explainers.services.checkpoints import checkpoint_network, checkpoint_register, networks_forget  # noqa: E402
from explainers.services.jobs import render_job_create  # noqa: E402

FAVOURITE = "aeroplane"
Pair = tuple[Checkpoint, Checkpoint]


def networks(folder: Path, size: int) -> Pair:
    """The paper's networks with random weights, saved as inference checkpoints and registered."""
    torch.manual_seed(0)
    classifier = classifier_build(ClassifierConfig(arch="resnet50", image_size=size))
    with torch.no_grad():  # posterior 1 for the favourite, 0 for the rest: P = {aeroplane} everywhere
        classifier.fc.bias -= 1000.0
        classifier.fc.bias[VOC_CLASSES.index(FAVOURITE)] += 2000.0
    classifier_save(classifier, folder / "classifier.pt")
    decoder_save(Decoder(DecoderConfig.for_classifier(classifier)), folder / "decoder.pt")
    return (
        checkpoint_register(kind="classifier", path=folder / "classifier.pt"),
        checkpoint_register(kind="decoder", path=folder / "decoder.pt"),
    )


def job_new(pair: Pair, voc: Path, images: int, **extra: Any) -> RenderJob:
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    classifier, decoder = pair
    return render_job_create(
        slug=slug,
        classifier=classifier,
        decoder=decoder,
        dataset_root=voc,
        n_correct=images,
        n_wrong=images,
        allow_shortfall=True,  # every eligible image of the split
        output_dir=WORK / "renders" / slug,
        enqueue=False,
        **extra,
    )


STAGES: dict[str, list[float]] = defaultdict(list)


@contextmanager
def stages_timed() -> Iterator[None]:
    """Time the pipeline's stages: picking the questions, rendering the chunks, importing the study."""
    wrapped = [(jobs, "_questions_pick"), (jobs, "render_chunk"), (jobs, "render_job_finish")]
    originals = [getattr(module, name) for module, name in wrapped]

    def timer(name: str, run: Callable[..., Any]) -> Callable[..., Any]:
        def timed(**arguments: Any) -> Any:
            started = time.perf_counter()
            try:
                return run(**arguments)
            finally:
                STAGES[name].append(time.perf_counter() - started)

        return timed

    for (module, name), original in zip(wrapped, originals, strict=True):
        setattr(module, name, timer(name, original))
    try:
        yield
    finally:
        for (module, name), original in zip(wrapped, originals, strict=True):
            setattr(module, name, original)


Times = tuple[float, float]  # wall-clock and CPU seconds (this process's threads, all of them)


def clocked(run: Callable[[], Any]) -> tuple[Times, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return (time.perf_counter() - wall, time.process_time() - cpu), result


def pipeline_time(pair: Pair, voc: Path, images: int) -> tuple[Times, RenderJob]:
    job = job_new(pair, voc, images)
    with stages_timed():
        times, job = clocked(lambda: jobs.render_job_run_here(job_id=job.pk))
    assert job.status == RenderJob.Status.SUCCEEDED and job.study is not None, job.error
    return times, job


def explain_time(pair: Pair, job: RenderJob) -> Times:
    """explain() alone on the job's images, preloaded as tensors in the networks' layout."""
    device = torch.device(inference.render_device())
    classifier, decoder = (checkpoint_network(checkpoint=c, device=str(device)) for c in pair)
    dataset = inference.dataset_open(root=job.dataset_root, split=job.split, image_size=job.image_size)
    index_of = {key: index for index, key in enumerate(dataset.ids)}
    questions = list(job.questions.all())
    images = torch.stack([dataset[index_of[q.key]][0] for q in questions])  # (N, 3, S, S)
    images = inference.to_device(images, device)
    classes = torch.tensor([VOC_CLASSES.index(q.prediction) for q in questions], device=device)
    batch = settings.EXPLAINERS_BATCH_SIZE

    def run() -> None:
        for start in range(0, len(images), batch):
            explain(classifier, decoder, images[start : start + batch], classes[start : start + batch])

    times, _ = clocked(run)
    return times


def end_to_end(pair: Pair, voc: Path, images: int, rounds: int) -> None:
    warm_up = job_new(pair, voc, images)  # oneDNN's kernels and the allocator's first pages, untimed
    jobs.render_job_run_here(job_id=warm_up.pk)
    networks_forget()
    cold, job = pipeline_time(pair, voc, images)
    cold_ratio = [alone / piped for alone, piped in zip(explain_time(pair, job), cold, strict=True)]
    STAGES.clear()
    walls, cpus, rendered = [], [], job.total
    for number in range(rounds):
        if number % 2:
            alone = explain_time(pair, job)
            piped, job = pipeline_time(pair, voc, images)
        else:
            piped, job = pipeline_time(pair, voc, images)
            alone = explain_time(pair, job)
        walls.append(alone[0] / piped[0])
        cpus.append(alone[1] / piped[1])
    print(
        f"{rendered} of {images} split images rendered per job (every eligible one), "
        f"{settings.EXPLAINERS_BATCH_SIZE} per batch, {torch.get_num_threads()} threads, "
        f"{settings.EXPLAINERS_LOADER_WORKERS} loader processes, "
        f"{settings.EXPLAINERS_PNG_THREADS} PNG threads"
    )
    print(f"{'render_study / explain() throughput':<44} {'median':>7} {'range':>15}")
    print(f"{f'warm (networks loaded), {rounds} rounds, wall clock':<44} {ratio_text(walls)}")
    print(f"{'  the same, in CPU time':<44} {ratio_text(cpus)}")
    print(f"{'cold (first job of the process), wall clock':<44} {cold_ratio[0]:>7.2f}")
    print("warm jobs' stages, medians: " + stages_text())


def ratio_text(ratios: list[float]) -> str:
    return f"{statistics.median(ratios):>7.2f} {min(ratios):>7.2f}-{max(ratios):<7.2f}"


def stages_text() -> str:
    total = sum(statistics.median(times) for times in STAGES.values())
    parts = [
        f"{name.lstrip('_')} {statistics.median(times):.2f} s ({statistics.median(times) / total:.0%})"
        for name, times in STAGES.items()
    ]
    return ", ".join(parts)


def worker_start(name: str, threads: int) -> subprocess.Popen:
    environment = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", f"--queues={QUEUE}", "--pool=solo"]
    command += [f"--hostname={name}@%h", "--loglevel=WARNING", "--without-gossip", "--without-mingle"]
    log = (WORK / f"{name}.log").open("a")
    return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)


def workers_ready(names: list[str], timeout: float = 120) -> None:
    from config.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(
            destination=[f"{name}@{socket.gethostname()}" for name in names], timeout=1
        )
        if len(replies) == len(names):
            return
    raise RuntimeError(f"workers {names} did not answer within {timeout} s; see {WORK}/*.log")


def workers_time(pair: Pair, voc: Path, images: int, count: int, cores: int) -> float:
    from explainers.tasks import render_job_run

    names = [f"bench-{count}-{index}" for index in range(count)]
    processes = [worker_start(name, threads=max(1, cores // count)) for name in names]
    try:
        workers_ready(names)
        job = job_new(pair, voc, images, chunk_size=4)
        started = time.perf_counter()
        render_job_run.apply_async(args=(job.pk,), queue=QUEUE)
        while not RenderJob.objects.get(pk=job.pk).is_finished:
            time.sleep(0.05)  # a benchmark polling a worker, not a test
        elapsed = time.perf_counter() - started
        job.refresh_from_db()
        assert job.status == RenderJob.Status.SUCCEEDED, job.error
        return elapsed
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def workers(pair: Pair, voc: Path, images: int, rounds: int, cores: int) -> None:
    if not (DATABASE and BROKER):
        print("skipped: set BENCH_DATABASE_URL (PostgreSQL) and BENCH_BROKER_URL (Redis) to measure workers")
        return
    ratios = []
    for number in range(rounds):
        order = (1, 2) if number % 2 == 0 else (2, 1)
        times = {count: workers_time(pair, voc, images, count, cores) for count in order}
        ratios.append(times[1] / times[2])
    print(f"{images}-image split, chunks of 4, {cores} cores: one worker of {cores} threads, two of half")
    print(f"{'throughput of 2 workers / 1 worker':<44} {ratio_text(ratios)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=16, help="Images in the synthetic split.")
    parser.add_argument("--size", type=int, default=224, help="Image side in pixels.")
    parser.add_argument("--rounds", type=int, default=4, help="Timed rounds of the end-to-end comparison.")
    parser.add_argument("--workers-rounds", type=int, default=2, help="Rounds of 1 against 2 workers.")
    # One thread: on a shared machine a second one waits at every operator's barrier whenever another
    # process has its core, which swamps what is being compared.
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of the end-to-end section.")
    parser.add_argument("--cores", type=int, default=2, help="Cores the workers section shares out.")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    try:
        run(args)
    finally:
        cleanup()


def cleanup() -> None:
    """Drop the benchmark's database and its files."""
    from django.db import connections

    connections.close_all()
    if DATABASE and BROKER:
        import psycopg

        with psycopg.connect(DATABASE, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{settings.DATABASES["default"]["NAME"]}"')
    shutil.rmtree(WORK, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    call_command("migrate", verbosity=0)
    voc = write_synthetic_voc(WORK / "voc", n_train=0, n_val=0, n_test=args.images, image_size=args.size)
    pair = networks(WORK, args.size)
    print(f"ResNet-50 + the paper's decoder at {args.size} px, CPU ({torch.get_num_threads()} threads)")
    print("\n-- end to end: render_study against explain() on preloaded tensors")
    end_to_end(pair, voc, args.images, args.rounds)
    print("\n-- workers: one against two on this machine (Celery, Redis, PostgreSQL)")
    workers(pair, voc, args.images, args.workers_rounds, args.cores)


if __name__ == "__main__":
    main()
