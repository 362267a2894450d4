"""Our survey's question loop in oTree: 30 questions, one page each, five radio options.

The questions are tests.factories.make_study's: 16 the model got right, then 14 it got wrong, each with
four VOC classes and "I just can't tell". As in our survey, each participant gets a condition round-robin
(Grad-CAM or PV), the questions in an order of their own, and each question's classes shuffled, "I just
can't tell" last.
"""

import random

from otree.api import BaseConstants, BaseGroup, BasePlayer, BaseSubsession, Page, models, widgets

doc = __doc__

VOC_CLASSES = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
    "tvmonitor",
)  # fmt: skip
CONDITIONS = ("gradcam", "pv")
CANT_TELL = ("cant_tell", "I just can't tell")


class C(BaseConstants):
    NAME_IN_URL = "xai"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 30
    # Question i offers the four classes from VOC_CLASSES[i % 20] on, as make_study's do.
    OPTIONS = [[VOC_CLASSES[(i + k) % len(VOC_CLASSES)] for k in range(4)] for i in range(NUM_ROUNDS)]


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    question = models.IntegerField()
    answer = models.StringField(widget=widgets.RadioSelect, label="What is the model's prediction?")


def creating_session(subsession: Subsession) -> None:
    for player in subsession.get_players():
        participant = player.participant
        if subsession.round_number == 1:
            participant.condition = CONDITIONS[(participant.id_in_session - 1) % len(CONDITIONS)]
            participant.question_order = random.sample(range(C.NUM_ROUNDS), C.NUM_ROUNDS)
        player.question = participant.question_order[subsession.round_number - 1]


def answer_choices(player: Player) -> list:
    classes = list(C.OPTIONS[player.question])
    random.Random(f"{player.participant.code}:{player.question}").shuffle(classes)
    return [*[[name, name] for name in classes], list(CANT_TELL)]


class Question(Page):
    form_model = "player"
    form_fields = ["answer"]

    @staticmethod
    def vars_for_template(player: Player) -> dict:
        name = f"q{player.question:03d}"
        return dict(image=f"{name}.png", explanation=f"{name}_{player.participant.condition}.png")


page_sequence = [Question]
