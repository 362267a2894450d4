"""The participant request path's statements, prepared once per process.

Every participant request reads one participant row and writes one or two rows; a start takes the study's next
turn and writes the participant's row. Through the ORM, building those statements, and the models from their
rows, cost more CPU than the database spent running them, so they are prepared here once per process and run
through Django's cursor: the lookup is compiled by the ORM itself and its row converted by the ORM's own
converters, and the writes are written out with the models' quoted column names and saved through the fields'
own preparation. Same SQL on PostgreSQL and SQLite, same values as the ORM would store. Nothing else in the
project needs this: use the ORM.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import F, Model

from survey.models import Participant, Study

_TOKEN, _SLUG = "<token>", "<slug>"  # stand-ins while compiling; each request passes its own


@dataclass(frozen=True)
class _Lookup:
    sql: str
    names: list[str]  # the participant's fields, in the SELECT's order; the study's version follows
    converters: dict[int, tuple[list[Callable], Any]]  # by column: the ORM's converters and expression


def participant_row(*, token: str, slug: str | None = None) -> Participant | None:
    """The participant with this token (in the study ``slug``, when given), with ``study_version``, the
    content version of their study; None if there is none."""
    lookup = _lookup(with_slug=slug is not None)
    with connection.cursor() as cursor:
        cursor.execute(lookup.sql, [token] if slug is None else [token, slug])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for position, (converters, expression) in lookup.converters.items():
        for converter in converters:
            values[position] = converter(values[position], expression, connection)
    participant = Participant.from_db(DEFAULT_DB_ALIAS, lookup.names, values[: len(lookup.names)])
    participant.study_version = values[len(lookup.names)]
    return participant


@cache
def _lookup(*, with_slug: bool) -> _Lookup:
    participants = Participant.objects.filter(token=_TOKEN)
    participants = participants.annotate(study_version=F("study__content_version"))
    if with_slug:
        participants = participants.filter(study__slug=_SLUG)
    compiler = participants.order_by()[:1].query.get_compiler(using=DEFAULT_DB_ALIAS)
    sql, params = compiler.as_sql()
    names = [field.attname for field in Participant._meta.concrete_fields]
    selected = [column for column, _, _ in compiler.select]
    if params != ((_TOKEN, _SLUG) if with_slug else (_TOKEN,)) or len(selected) != len(names) + 1:
        raise RuntimeError(f"the participant lookup compiled unexpectedly: {sql!r} {params!r}")
    return _Lookup(sql=sql, names=names, converters=compiler.get_converters(selected))


def row_insert(instance: Model) -> None:
    """INSERT ``instance`` (a new row of a model with an automatic id) and set its id, as save() would,
    without save()'s signals: none are connected to the answers this is for."""
    sql, fields = _insert(type(instance))
    params = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding, instance._state.db = False, DEFAULT_DB_ALIAS


@cache
def _insert(model: type[Model]) -> tuple[str, list]:
    quote = connection.ops.quote_name
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table, key = quote(model._meta.db_table), quote(model._meta.pk.column)
    return f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING {key}", fields


def participant_execute(template: str, params: list[object]) -> int:
    """Run one statement on participants' rows, written with {table} and {field name} placeholders;
    the number of rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(participant_sql(template), params)
        return cursor.rowcount


@cache
def participant_sql(template: str) -> str:
    """``template`` with the participants' table and column names, quoted for the database."""
    quote = connection.ops.quote_name
    columns = {field.name: quote(field.column) for field in Participant._meta.concrete_fields}
    return template.format(table=quote(Participant._meta.db_table), **columns)


def study_turn(*, study_id: int, statuses: tuple[str, ...]) -> tuple[int, str, uuid.UUID] | None:
    """Take the study's next assignment turn if its status is one of ``statuses``: add one to its counter
    and return the counter, the status and the content version, in one statement; None if the status is
    another. The UPDATE holds the study's row until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(_turn_sql(len(statuses)), [study_id, *statuses])
        row = cursor.fetchone()
    if row is None:
        return None
    counter, status, version = row
    return counter, status, Study._meta.get_field("content_version").to_python(version)


@cache
def _turn_sql(statuses: int) -> str:
    quote = connection.ops.quote_name
    names = ("assignment_counter", "status", "content_version", "id")
    counter, status, version, key = (quote(Study._meta.get_field(name).column) for name in names)
    placeholders = ", ".join(["%s"] * statuses)
    return (
        f"UPDATE {quote(Study._meta.db_table)} SET {counter} = {counter} + 1 "
        f"WHERE {key} = %s AND {status} IN ({placeholders}) RETURNING {counter}, {status}, {version}"
    )


def at(moment: object) -> object:
    """A datetime (or None) as the database takes it: what a DateTimeField's own preparation gives."""
    return connection.ops.adapt_datetimefield_value(moment)


def prepare() -> None:
    """Compile the lookups now (a process's warm-up) rather than on the first request."""
    for with_slug in (False, True):
        _lookup(with_slug=with_slug)
