"""The participant API: start, fetch the next question, answer. Participants are known only by token.

Errors from the services are ApplicationErrors: core.api turns them into {"message": ...} responses.
"""

from __future__ import annotations

from functools import cache

from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import JSON_ONLY, ErrorSerializer
from core.ratelimit import RateLimitThrottle
from survey.models import Answer, ExtraAnswer, Participant, Study
from survey.selectors.participants import (
    NextQuestion,
    participant_by_token,
    participant_completion_code,
    participant_progress,
)
from survey.selectors.sequence import Role
from survey.selectors.studies import study_by_slug
from survey.services.participants import (
    CLIENT_MS_MAX,
    EXTERNAL_ID_MAX,
    ID_MAX,
    answer_submit,
    external_id_hashes,
    participant_start,
)
from survey.services.questions import Completed, participant_current_question


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(ErrorSerializer, description="Refused; nothing was stored.") for code in codes
    }


class StartRateThrottle(RateLimitThrottle):
    group = "survey.participant-start"
    rate_setting = "SURVEY_START_RATE"


class ParticipantApi(APIView):
    """Base for the participant endpoints: no authentication, the token is the credential.

    JSON only: a cross-site form post (which a browser sends without asking) is refused with 415.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]
    renderer_classes, content_negotiation_class = JSON_ONLY

    def participant(self, token: str) -> Participant:
        participant = participant_by_token(token=token)
        if participant is None:
            raise Http404("Unknown participant token.")
        return participant


# Nested serializers are named explicitly in the schema: every view's "InputSerializer" would clash.
class ParticipantStartApi(ParticipantApi):
    # Anyone may start, so a client's starts are limited: they create rows and move the round-robin turn.
    throttle_classes = [StartRateThrottle]

    @extend_schema_serializer(component_name="ParticipantStartInput")
    class InputSerializer(serializers.Serializer):
        prolific_pid = serializers.CharField(required=False, allow_blank=True, max_length=EXTERNAL_ID_MAX)
        study_id = serializers.CharField(required=False, allow_blank=True, max_length=EXTERNAL_ID_MAX)
        session_id = serializers.CharField(required=False, allow_blank=True, max_length=EXTERNAL_ID_MAX)

    @extend_schema_serializer(component_name="ParticipantStartOutput")
    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        condition = serializers.CharField(help_text="The key of the condition assigned.")
        total = serializers.IntegerField(
            help_text="How many questions the participant will answer, attention checks included."
        )

    @extend_schema(
        operation_id="participant_start",
        tags=["participants"],
        summary="Start a participant",
        description=(
            "Assigns a condition by the study's policy and returns the participant's token. Calling it "
            "stands for the participant's consent: a client must show the study's description and get "
            "consent first. Prolific ids are stored only as salted hashes."
        ),
        request=InputSerializer,
        responses={201: OutputSerializer, **_errors(400, 404, 409, 415, 429)},
    )
    def post(self, request: Request, slug: str) -> Response:
        study = _study_or_404(slug)
        data = _validated(self.InputSerializer, request.data)
        participant = participant_start(study=study, id_hashes=external_id_hashes(study=study, **data))
        started = {
            "token": participant.token,
            "condition": participant.condition.key,
            "total": participant_progress(participant).total,
        }
        return Response(self.OutputSerializer(started).data, status=status.HTTP_201_CREATED)


@extend_schema_field(OpenApiTypes.URI)
class AbsoluteMediaUrlField(serializers.Field):
    """An image as the absolute URL it is served at (the serializer's context carries the request)."""

    def to_representation(self, image: FieldFile) -> str:
        return self.context["request"].build_absolute_uri(image.url)


class OptionOutput(serializers.Serializer):
    id = serializers.CharField(help_text='Send this back as "option".')
    label = serializers.CharField(help_text="What to show.")


class ParticipantNextApi(ParticipantApi):
    @extend_schema_serializer(component_name="NextQuestionOutput")
    class QuestionOutputSerializer(serializers.Serializer):
        question = serializers.IntegerField(
            source="question.pk", help_text="The question's id; send it back with the answer."
        )
        position = serializers.IntegerField(
            help_text="1-based, among everything this participant is asked, attention checks included."
        )
        total = serializers.IntegerField()
        image = AbsoluteMediaUrlField(source="question.image", help_text="Absolute URL of the input image.")
        explanation = AbsoluteMediaUrlField(
            source="explanation.image", allow_null=True, help_text="Absolute URL of the explanation image."
        )
        options = OptionOutput(
            many=True, help_text='Five options in the order to show, "I just can\'t tell" last.'
        )
        role = serializers.ChoiceField(
            choices=[role.value for role in Role],
            required=False,
            help_text='Present for an attention check ("attention"): show it like any question, and send '
            "the role back with the answer.",
        )
        instruction = serializers.CharField(
            required=False, help_text="Present for an instructed-response check: show it under the question."
        )

        def to_representation(self, instance: NextQuestion) -> dict:
            # Optional fields appear only when they say something, so a study question reads as it always did.
            data = super().to_representation(instance)
            if data.get("role") == Role.QUESTION:
                del data["role"]
            if not data.get("instruction"):
                data.pop("instruction", None)
            return data

    @extend_schema_serializer(component_name="DoneOutput")
    class DoneOutputSerializer(serializers.Serializer):
        done = serializers.BooleanField(default=True)
        completion_code = serializers.CharField(
            allow_blank=True, help_text="The participant's own code when the study gives unique codes."
        )
        redirect_url = serializers.URLField(required=False, help_text="Present when the study sets one.")

        def to_representation(self, instance: dict) -> dict:
            data = super().to_representation(instance)
            if not data.get("redirect_url"):
                data.pop("redirect_url", None)
            return data

    @extend_schema(
        operation_id="participant_next",
        tags=["participants"],
        summary="The participant's current question, or the completion code",
        description="The first call for a question starts its response-time clock; repeating it does not.",
        responses={
            200: PolymorphicProxySerializer(
                component_name="NextStep",
                serializers=[QuestionOutputSerializer, DoneOutputSerializer],
                resource_type_field_name=None,
            ),
            **_errors(404, 409),
        },
    )
    def get(self, request: Request, token: str) -> JsonResponse:
        participant = self.participant(token)
        current = participant_current_question(participant=participant)
        if isinstance(current, Completed):
            return JsonResponse(_done_body(participant, current))
        return JsonResponse(_question_body(current, request))


class AnswerSubmitApi(ParticipantApi):
    @extend_schema_serializer(component_name="AnswerSubmitInput")
    class InputSerializer(serializers.Serializer):
        question = serializers.IntegerField(min_value=1, max_value=ID_MAX)
        option = serializers.CharField(max_length=100)
        role = serializers.ChoiceField(
            choices=[role.value for role in Role],
            default=Role.QUESTION.value,
            help_text='The role next gave the question: "attention" for an attention check.',
        )
        client_response_ms = serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=0,
            max_value=CLIENT_MS_MAX,
            help_text="The client's own response time, from both images shown to the answer; kept when "
            "positive and below the server's.",
        )

    @extend_schema_serializer(component_name="AnswerSubmitOutput")
    class OutputSerializer(serializers.Serializer):
        question = serializers.IntegerField(source="question_id")
        option = serializers.CharField()
        position = serializers.IntegerField()
        response_ms = serializers.IntegerField()
        client_response_ms = serializers.IntegerField(
            allow_null=True, help_text="The client's response time, when it sent a plausible one."
        )
        role = serializers.CharField(required=False, help_text='Present for an attention check: "attention".')

        def to_representation(self, answer: Answer | ExtraAnswer) -> dict:
            data = super().to_representation(answer)
            if isinstance(answer, ExtraAnswer):
                data["role"] = Role.ATTENTION.value
            return data

    @extend_schema(
        operation_id="answer_submit",
        tags=["participants"],
        summary="Answer the current question",
        description=(
            "An attention check is answered like a question, with the role next gave it. "
            "201 when stored; 200 when the very same answer was already stored (a repeated submit). "
            "409 for a different answer to an answered question or a participant who finished or left; "
            "400 for malformed input, an option the question does not offer, or a question that is not "
            "the current one."
        ),
        request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer, **_errors(400, 404, 409, 415)},
    )
    def post(self, request: Request, token: str) -> Response:
        # No participant_touch: a refused answer must write nothing, and a stored one records the time.
        participant = self.participant(token)
        data = _validated(self.InputSerializer, request.data)
        result = answer_submit(
            participant=participant,
            question_id=data["question"],
            option=data["option"],
            role=Role(data["role"]),
            client_response_ms=data.get("client_response_ms"),
        )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return JsonResponse(_answer_body(result.answer), status=code)


# The bodies of the two requests every question costs, built directly: the serializers above describe
# them in the schema (tests/survey/test_api_schema.py checks that the two agree), and building them
# through the serializers cost more CPU than the rest of the request.


def _question_body(current: NextQuestion, request: HttpRequest) -> dict:
    body = {
        "question": current.question.pk,
        "position": current.position,
        "total": current.total,
        "image": request.build_absolute_uri(current.question.image.url),
        "explanation": None
        if current.explanation is None
        else request.build_absolute_uri(current.explanation.image.url),
        "options": [{"id": option.id, "label": option.label} for option in current.options],
    }
    if current.role != Role.QUESTION:  # optional fields appear only when they say something
        body["role"] = current.role.value
    if current.instruction:
        body["instruction"] = current.instruction
    return body


def _done_body(participant: Participant, completed: Completed) -> dict:
    body = {"done": True, "completion_code": participant_completion_code(participant)}
    if completed.study.completion_redirect_url:
        body["redirect_url"] = completed.study.completion_redirect_url
    return body


def _answer_body(answer: Answer | ExtraAnswer) -> dict:
    body = {
        "question": answer.question_id,
        "option": answer.option,
        "position": answer.position,
        "response_ms": answer.response_ms,
        "client_response_ms": answer.client_response_ms,
    }
    if isinstance(answer, ExtraAnswer):
        body["role"] = Role.ATTENTION.value
    return body


def _study_or_404(slug: str) -> Study:
    study = study_by_slug(slug=slug)
    if study is None:
        raise Http404(f"There is no study {slug!r}.")
    return study


def _validated(serializer_class: type[serializers.Serializer], data: object) -> dict:
    """``data`` validated by ``serializer_class``, or the ValidationError that ``is_valid`` raises."""
    try:
        return _validator(serializer_class).run_validation(data)
    except ValidationError:
        # Refusals are rare: word them exactly as is_valid does (it rewords a null body, for one).
        serializer_class(data=data).is_valid(raise_exception=True)
        raise


@cache
def _validator(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """One unbound instance per input serializer, its fields built once per process: a new instance per
    request deep-copies every declared field, which cost more than validating. Validation keeps no state
    on the instance (``run_validation`` returns the data; ``is_valid`` is what stores it). The fields'
    defaults are shared by every request: keep them immutable."""
    return serializer_class()


@csrf_exempt  # a POST to a wrong path is a 404, not a CSRF refusal
def api_not_found(request: HttpRequest) -> JsonResponse:
    """Any other path under /api/: a JSON 404 like every API error, not Django's HTML page."""
    return JsonResponse({"message": f"Not found: {request.path}"}, status=404)
