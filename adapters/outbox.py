"""The outbox ports on SQL, one class per port: the notification queue (claiming due
items, composing digests), the message outbox (delivery leases, retries, dead letters),
the daemons' heartbeats, the stage-report log and the rewriter; SqlOutbox puts them
together as the SiteOutbox that App.outbox gives.

Claims take row locks with SKIP LOCKED on PostgreSQL so several daemons split the work;
on SQLite every write transaction is BEGIN IMMEDIATE, which serialises them. The same
promises hold in memory (adapters.memory.MemoryOutbox): tests/contract/test_outbox.py.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.schema import (
    daemons,
    items,
    message_parts,
    messages,
    notifications,
    robot_budget,
    robot_sends,
    robot_steps,
    stage_reports,
)
from adapters.sqlstore import SqlStore, storable_id
from engine.mail import Attachment, InlineImage
from engine.model import Item
from engine.officehours import held_recipients
from engine.provisional import Picked, Rewrite
from engine.robotdelivery import RobotOutgoing
from engine.scheduler import Composed, Decision, Outgoing, Pending

_CURSOR = (update(items).where(items.c.id == bindparam("b_id"))
           .values(planned_until=bindparam("b_until"), next_action_at=bindparam("b_next")))


def daemon_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _locking(store: SqlStore, stmt: Any, *of: Any) -> Any:
    """`stmt` taking row locks that other daemons skip, where the database has them."""
    if store.db.dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True, of=list(of) or None)
    return stmt


def _insert_ignoring_duplicates(store: SqlStore, table: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING the first key column: a row comes back
    only when it was inserted (rowcount is not reliable for this on every driver)."""
    dialect = postgresql if store.db.dialect.name == "postgresql" else sqlite
    first_key = list(table.primary_key.columns)[0]
    return dialect.insert(table).on_conflict_do_nothing().returning(first_key)


def insert_message(conn: Connection, message: Composed, at: datetime) -> int | None:
    """Queue one composed message with its parts in the caller's transaction; its id.
    A robot's message is queued only with the notifications no message to that robot
    carried yet (robot_steps: a step reaches a group once): None when it carries none."""
    taken: set[int] = set()
    if message.channel == "robot" and message.notification_ids:
        assert message.robot is not None
        taken = {r[0] for r in conn.execute(select(robot_steps.c.notification_id).where(
            robot_steps.c.robot == message.robot["id"],
            robot_steps.c.notification_id.in_(list(message.notification_ids))))}
        if taken >= set(message.notification_ids):
            return None
    key = conn.execute(messages.insert(), {
        "created_at": at, "recipient_name": message.recipient_name,
        "recipient_email": message.recipient_email, "subject": message.subject,
        "body_text": message.text, "body_html": message.html,
        "notifications": list(message.notification_ids), "status": "pending", "attempts": 0,
        "next_attempt_at": at, "channel": message.channel, "robot": message.robot, "urgent": message.urgent,
    }).inserted_primary_key
    assert key is not None
    message_id = int(key[0])
    if message.channel == "robot" and message.notification_ids:
        assert message.robot is not None
        conn.execute(robot_steps.insert(), [{"robot": message.robot["id"], "notification_id": n, "message_id": message_id}
                                            for n in message.notification_ids if n not in taken])
    parts = [{"message_id": message_id, "kind": "inline", "filename": i.filename or i.cid,
              "content_type": i.mime_type, "cid": i.cid, "data": i.content} for i in message.inline_images]
    parts += [{"message_id": message_id, "kind": "attachment", "filename": a.filename,
               "content_type": a.mime_type, "cid": None, "data": a.content} for a in message.attachments]
    if parts:
        conn.execute(message_parts.insert(), parts)
    return message_id


class SqlNotificationQueue:
    """NotificationQueue: due items claimed and their steps queued, digests composed."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def schedule_due(self, at: datetime, limit: int, decide: Callable[[Item], Decision]) -> tuple[int, int]:
        stmt = _locking(self.store, select(items).where(items.c.next_action_at <= at)
                        .order_by(items.c.next_action_at).limit(limit))
        insert = _insert_ignoring_duplicates(self.store, notifications)
        with self.store.write() as conn:
            rows = conn.execute(stmt).all()
            cursors, queued = [], []
            for row in rows:
                item = SqlStore.item_from_row(row)
                decision = decide(item)
                cursors.append({"b_id": item.id, "b_until": decision.planned_until,
                                "b_next": decision.next_action_at})
                queued += [{
                    "item_id": q.item_id, "policy_version": q.policy_version, "step_key": q.step.key,
                    "step_at": q.step.at, "kind": q.step.kind, "action": q.step.action,
                    "label": q.step.label, "late": q.late, "queued_at": at, "composed": False,
                    "urgent": q.urgent,
                    "recipients": [{"role": a.role, "name": a.name, "email": a.email} for a in q.recipients],
                } for q in decision.notifications]
            added = self._insert_each(conn, insert, queued)
            if cursors:
                conn.execute(_CURSOR, cursors)
        return len(rows), added

    @staticmethod
    def _insert_each(conn: Connection, insert: Any, rows: list[dict[str, Any]]) -> int:
        """Insert, skipping rows whose key is taken; returns how many were new."""
        added = 0
        for row in rows:
            added += len(conn.execute(insert, row).all())
        return added

    def compose(self, at: datetime, limit: int, build: Callable[[list[Pending]], list[Composed]],
                only_urgent: bool = False) -> tuple[int, int]:
        query = (select(notifications, items).join(items, items.c.id == notifications.c.item_id)
                 .where(notifications.c.composed.is_(False)))
        if only_urgent:
            query = query.where(notifications.c.urgent.is_(True))
        stmt = _locking(self.store, query.order_by(notifications.c.id).limit(limit), notifications)
        with self.store.write() as conn:
            rows = conn.execute(stmt).all()
            if not rows:
                return 0, 0
            pending = [self._pending(r) for r in rows]
            built = build(pending)
            for message in built:
                insert_message(conn, message, at)
            # Notifications nobody can be mailed (no address) are composed into nothing:
            # they stay recorded but never block the queue.
            conn.execute(update(notifications).where(notifications.c.id.in_([p.id for p in pending]))
                         .values(composed=True))
        return len(rows), len(built)

    @staticmethod
    def _pending(row: Any) -> Pending:
        m = row._mapping
        n = notifications.c
        return Pending(m[n.id], SqlStore.item_from_row([m[c] for c in items.c]), m[n.policy_version],
                       m[n.step_key], m[n.step_at], m[n.kind], m[n.action], m[n.label],
                       list(m[n.recipients]), m[n.late], bool(m[n.urgent]))

    def add_message(self, message: Composed, at: datetime) -> int | None:
        with self.store.write() as conn:
            return insert_message(conn, message, at)

    def queued(self) -> list[tuple[int, str, datetime]]:
        """(item, step key, instant) of every notification ever queued, in order."""
        n = notifications.c
        with self.store.read() as conn:
            rows = conn.execute(select(n.item_id, n.step_key, n.step_at).order_by(n.id))
            return [(int(r[0]), str(r[1]), r[2]) for r in rows]


def _lease(store: SqlStore, conn: Connection, channel: str, at: datetime, limit: int, lease_until: datetime,
           only_urgent: bool) -> list[Any]:
    """Up to `limit` due pending messages of `channel` (oldest first; `only_urgent`:
    outside office hours), leased until `lease_until` in the caller's transaction."""
    query = select(messages).where(messages.c.status == "pending", messages.c.next_attempt_at <= at,
                                   messages.c.channel == channel)
    if only_urgent:
        query = query.where(messages.c.urgent.is_(True))
    rows = list(conn.execute(_locking(store, query.order_by(messages.c.id).limit(limit))).all())
    if rows:
        conn.execute(update(messages).where(messages.c.id.in_([r.id for r in rows])).values(next_attempt_at=lease_until))
    return rows


class SqlMessageOutbox:
    """MessageOutbox: messages leased for delivery, marked sent, retried or dead."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def claim_messages(self, at: datetime, limit: int, lease_until: datetime,
                       only_urgent: bool = False) -> list[Outgoing]:
        with self.store.write() as conn:
            rows = _lease(self.store, conn, "mail", at, limit, lease_until, only_urgent)
            parts = self._parts(conn, [r.id for r in rows]) if rows else {}
        return [Outgoing(r.id, r.recipient_name, r.recipient_email, r.subject, r.body_text, r.body_html,
                         r.attempts, *parts.get(r.id, ((), ())), urgent=bool(r.urgent)) for r in rows]

    @staticmethod
    def _parts(conn: Connection, ids: list[int]) -> dict[int, tuple[tuple[Attachment, ...], tuple[InlineImage, ...]]]:
        found: dict[int, tuple[list[Attachment], list[InlineImage]]] = {}
        stmt = select(message_parts).where(message_parts.c.message_id.in_(ids)).order_by(message_parts.c.id)
        for p in conn.execute(stmt):
            attachments, images = found.setdefault(p.message_id, ([], []))
            if p.kind == "inline":
                images.append(InlineImage(p.cid, bytes(p.data), p.content_type, p.filename))
            else:
                attachments.append(Attachment(p.filename, bytes(p.data), p.content_type))
        return {k: (tuple(a), tuple(i)) for k, (a, i) in found.items()}

    def _set(self, message_id: int, **values: Any) -> None:
        with self.store.write() as conn:
            conn.execute(update(messages).where(messages.c.id == message_id).values(**values))

    def mark_sent(self, message_id: int, at: datetime) -> None:
        self._set(message_id, status="sent", sent_at=at, attempts=messages.c.attempts + 1, last_error=None)

    def mark_retry(self, message_id: int, attempts: int, next_at: datetime, error: str) -> None:
        self._set(message_id, attempts=attempts, next_attempt_at=next_at, last_error=error)

    def mark_dead(self, message_id: int, attempts: int, error: str) -> None:
        self._set(message_id, status="dead", attempts=attempts, last_error=error)

    def release(self, message_ids: list[int], at: datetime) -> None:
        if message_ids:
            with self.store.write() as conn:
                conn.execute(update(messages).where(messages.c.id.in_(message_ids)).values(next_attempt_at=at))

    def retry_dead(self, message_ids: list[int] | None, at: datetime) -> int:
        """Put dead letters (all, or these) back in the queue with a fresh count of tries."""
        stmt = update(messages).where(messages.c.status == "dead")
        if message_ids:
            stmt = stmt.where(messages.c.id.in_([i for i in message_ids if storable_id(i)]))
        with self.store.write() as conn:
            # Due at once: their creation time is in the past for any tick, real or replayed.
            values = {"status": "pending", "attempts": 0, "next_attempt_at": messages.c.created_at}
            return conn.execute(stmt.values(**values)).rowcount or 0

    def list_messages(self, statuses: tuple[str, ...], limit: int = 200) -> list[Any]:
        stmt = (select(messages).where(messages.c.status.in_(statuses))
                .order_by(messages.c.id.desc()).limit(limit))
        with self.store.read() as conn:
            return list(conn.execute(stmt))


class SqlRobotOutbox:
    """RobotOutbox: the group robots' messages (rows of the messages table whose channel
    is "robot") and each robot's rate budget, counted in the database."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def claim_robot_messages(self, at: datetime, limit: int, lease_until: datetime,
                             only_urgent: bool = False) -> list[RobotOutgoing]:
        with self.store.write() as conn:
            rows = _lease(self.store, conn, "robot", at, limit, lease_until, only_urgent)
        return [RobotOutgoing.of_row(r.id, r.recipient_name, r.subject, r.body_text, r.attempts, r.robot) for r in rows]

    def reserve_send(self, robot: str, now: datetime, limit: int, window: timedelta) -> datetime | None:
        budget, sends = robot_budget.c, robot_sends.c
        with self.store.write() as conn:
            conn.execute(_insert_ignoring_duplicates(self.store, robot_budget), {"robot": robot, "held_until": None}).all()
            # Every daemon counting this robot's sends waits here for the others (the
            # row lock on PostgreSQL; BEGIN IMMEDIATE already serialises SQLite).
            held = conn.execute(_locking_all(self.store, select(budget.held_until).where(budget.robot == robot))).scalar()
            if held is not None and held > now:
                return held
            conn.execute(robot_sends.delete().where(sends.robot == robot, sends.at <= now - window))
            recent = [r[0] for r in conn.execute(select(sends.at).where(sends.robot == robot, sends.at > now - window)
                                                 .order_by(sends.at.desc()).limit(limit))]
            if len(recent) >= limit:
                return recent[-1] + window
            conn.execute(robot_sends.insert(), {"robot": robot, "at": now})
        return None

    def hold_robot(self, robot: str, until: datetime) -> None:
        with self.store.write() as conn:
            conn.execute(_insert_ignoring_duplicates(self.store, robot_budget), {"robot": robot, "held_until": None}).all()
            conn.execute(update(robot_budget).where(robot_budget.c.robot == robot,
                                                    (robot_budget.c.held_until.is_(None))
                                                    | (robot_budget.c.held_until < until))
                         .values(held_until=until))


def _locking_all(store: SqlStore, stmt: Any) -> Any:
    """`stmt` taking its row locks, waiting for other holders (PostgreSQL)."""
    if store.db.dialect.name == "postgresql":
        return stmt.with_for_update()
    return stmt


class SqlHeartbeats:
    """Heartbeats: each daemon's last tick, and the queue's state for `rectify status`."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def previous_tick(self) -> datetime | None:
        with self.store.read() as conn:
            return conn.execute(select(func.max(daemons.c.last_tick_as_of))).scalar()

    def record_tick(self, name: str, started_at: datetime, wall: datetime, as_of: datetime,
                    seconds: float | None, version: str, error: str | None) -> None:
        values = {"started_at": started_at, "last_tick_at": wall, "last_tick_as_of": as_of,
                  "last_tick_seconds": seconds, "policy_version": version, "last_error": error}
        with self.store.write() as conn:
            done = conn.execute(update(daemons).where(daemons.c.name == name).values(**values)).rowcount
            if not done:
                conn.execute(daemons.insert(), {"name": name, **values})

    def status(self, at: datetime) -> dict[str, Any]:
        count = func.count()
        with self.store.read() as conn:
            due = conn.execute(select(count).select_from(items).where(items.c.next_action_at <= at)).scalar()
            by_status: dict[str, int] = {r[0]: r[1] for r in conn.execute(select(messages.c.status, count).group_by(messages.c.status))}
            unsent = conn.execute(select(count).select_from(notifications)
                                  .where(notifications.c.composed.is_(False))).scalar()
            held = [r[0] for r in conn.execute(select(notifications.c.recipients).where(
                notifications.c.composed.is_(False), notifications.c.urgent.is_(False)))]
            held_messages = conn.execute(select(count).select_from(messages).where(
                messages.c.status == "pending", messages.c.urgent.is_(False))).scalar()
            beats = [dict(r._mapping) for r in conn.execute(select(daemons).order_by(daemons.c.last_tick_at.desc()))]
        return {"items_due": int(due or 0), "pending": int(by_status.get("pending", 0)),
                "sent": int(by_status.get("sent", 0)), "dead": int(by_status.get("dead", 0)),
                "unsent_notifications": int(unsent or 0), "held_notifications": len(held),
                "held_recipients": held_recipients(held), "held_messages": int(held_messages or 0),
                "daemons": beats}


class SqlStageReportLog:
    """StageReportLog: each stage report sent once per period, with its messages."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def add_stage_report(self, name: str, period: str, at: datetime, recipients: list[str],
                         composed: list[Composed]) -> bool:
        """Record the report as sent for its period and queue its messages, in one
        transaction; False (and nothing queued) when it was recorded already."""
        insert = _insert_ignoring_duplicates(self.store, stage_reports)
        with self.store.write() as conn:
            added = conn.execute(insert, {"name": name, "period": period, "produced_at": at,
                                          "recipients": recipients}).all()
            if not added:
                return False
            for message in composed:
                insert_message(conn, message, at)
        return True

    def stage_report_sent(self, name: str, period: str) -> datetime | None:
        with self.store.read() as conn:
            return conn.execute(select(stage_reports.c.produced_at).where(
                stage_reports.c.name == name, stage_reports.c.period == period)).scalar()


class SqlRewriter:
    """Rewriter: an item changed outside its workflow (a provisional deadline counted
    again), its ledger row and the messages about it, in one transaction holding the item."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def rewrite(self, item_id: int, decide: Callable[[Item], Rewrite | None]) -> Item | None:
        pick = Picked(decide)

        def queue_messages(conn: Connection) -> None:
            assert pick.taken is not None
            for message in pick.taken.messages:
                insert_message(conn, message, pick.taken.entry.at)

        return self.store.rewrite(item_id, pick, queue_messages)


class SqlOutbox(SqlNotificationQueue, SqlMessageOutbox, SqlHeartbeats, SqlStageReportLog, SqlRewriter,
                SqlRobotOutbox):
    """The SiteOutbox on one SqlStore: every outbox port above, over the same store."""
