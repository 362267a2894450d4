"""The participant API: start, fetch the next question, answer. Participants are known only by token.

Errors from the services are ApplicationErrors: core.api turns them into {"message": ...} responses.
"""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer
from survey.models import Participant, Study
from survey.selectors.participants import participant_by_token
from survey.selectors.studies import study_by_slug
from survey.services.participants import (
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


class ParticipantApi(APIView):
    """Base for the token-addressed endpoints: no authentication, the token is the credential."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def participant(self, token: str) -> Participant:
        participant = participant_by_token(token=token)
        if participant is None:
            raise Http404("Unknown participant token.")
        return participant


# Nested serializers are named explicitly in the schema: every view's "InputSerializer" would clash.
class ParticipantStartApi(ParticipantApi):
    @extend_schema_serializer(component_name="ParticipantStartInput")
    class InputSerializer(serializers.Serializer):
        prolific_pid = serializers.CharField(required=False, allow_blank=True, max_length=EXTERNAL_ID_MAX)
        study_id = serializers.CharField(required=False, allow_blank=True, max_length=EXTERNAL_ID_MAX)
        session_id = serializers.CharField(required=False, allow_blank=True, max_length=EXTERNAL_ID_MAX)

    @extend_schema_serializer(component_name="ParticipantStartOutput")
    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        condition = serializers.CharField(help_text="The key of the condition assigned.")
        total = serializers.IntegerField(help_text="How many questions the participant will answer.")

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
        responses={201: OutputSerializer, **_errors(400, 404, 409)},
    )
    def post(self, request: Request, slug: str) -> Response:
        study = _study_or_404(slug)
        data = _validated(self.InputSerializer, request.data)
        participant = participant_start(study=study, id_hashes=external_id_hashes(study=study, **data))
        started = {
            "token": participant.token,
            "condition": participant.condition.key,
            "total": len(participant.question_order),
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
        position = serializers.IntegerField(help_text="1-based position in this participant's order.")
        total = serializers.IntegerField()
        image = AbsoluteMediaUrlField(source="question.image", help_text="Absolute URL of the input image.")
        explanation = AbsoluteMediaUrlField(
            source="explanation.image", allow_null=True, help_text="Absolute URL of the explanation image."
        )
        options = OptionOutput(
            many=True, help_text='Five options in the order to show, "I just can\'t tell" last.'
        )

    @extend_schema_serializer(component_name="DoneOutput")
    class DoneOutputSerializer(serializers.Serializer):
        done = serializers.SerializerMethodField()
        completion_code = serializers.CharField(allow_blank=True)
        redirect_url = serializers.URLField(
            source="completion_redirect_url", required=False, help_text="Present when the study sets one."
        )

        def get_done(self, study: Study) -> bool:
            return True

        def to_representation(self, study: Study) -> dict:
            data = super().to_representation(study)
            if not data["redirect_url"]:
                del data["redirect_url"]
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
    def get(self, request: Request, token: str) -> Response:
        current = participant_current_question(participant=self.participant(token))
        if isinstance(current, Completed):
            return Response(self.DoneOutputSerializer(current.study).data)
        return Response(self.QuestionOutputSerializer(current, context={"request": request}).data)


class AnswerSubmitApi(ParticipantApi):
    @extend_schema_serializer(component_name="AnswerSubmitInput")
    class InputSerializer(serializers.Serializer):
        question = serializers.IntegerField(min_value=1, max_value=ID_MAX)
        option = serializers.CharField(max_length=100)

    @extend_schema_serializer(component_name="AnswerSubmitOutput")
    class OutputSerializer(serializers.Serializer):
        question = serializers.IntegerField(source="question_id")
        option = serializers.CharField()
        position = serializers.IntegerField()
        response_ms = serializers.IntegerField()

    @extend_schema(
        operation_id="answer_submit",
        tags=["participants"],
        summary="Answer the current question",
        description=(
            "201 when stored; 200 when the very same answer was already stored (a repeated submit). "
            "409 for a different answer to an answered question or a participant who finished or left; "
            "400 for malformed input, an option the question does not offer, or a question that is not "
            "the current one."
        ),
        request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer, **_errors(400, 404, 409)},
    )
    def post(self, request: Request, token: str) -> Response:
        # No participant_touch: a refused answer must write nothing, and a stored one records the time.
        participant = self.participant(token)
        data = _validated(self.InputSerializer, request.data)
        result = answer_submit(participant=participant, question_id=data["question"], option=data["option"])
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(self.OutputSerializer(result.answer).data, status=code)


def _study_or_404(slug: str) -> Study:
    study = study_by_slug(slug=slug)
    if study is None:
        raise Http404(f"There is no study {slug!r}.")
    return study


def _validated(serializer_class: type[serializers.Serializer], data: object) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def api_not_found(request: HttpRequest) -> JsonResponse:
    """Any other path under /api/: a JSON 404 like every API error, not Django's HTML page."""
    return JsonResponse({"message": f"Not found: {request.path}"}, status=404)
