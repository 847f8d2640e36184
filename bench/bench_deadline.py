"""Deadline parsing speed: `engine.deadline.parse_deadline` against `jionlp.parse_time`.

Both parse the same real expressions (the seeds' and the issue's, with the variants
documents use) in the same run, after a warm-up that lets JioNLP load its dictionaries.
Nothing is cached on our side: every call normalises, scans and resolves afresh.
Figure and baseline are expressions per second; the target is 10x JioNLP.

JioNLP is a bench-only extra (`pip install -e '.[bench]'`). When it cannot be imported
the result says so in its baseline name and carries no ratio (NaN, not met) rather
than a made-up number.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import sys
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bench.common import Result
from engine.deadline import parse_deadline
from engine.errors import DeadlineError

ZONE = ZoneInfo("Asia/Shanghai")
REF = datetime(2020, 8, 1, 9, 0, tzinfo=ZONE)

EXPRESSIONS: tuple[str, ...] = (
    "2020年底前", "2019年12月底前", "8月25日前", "11月底前", "2022年底前", "年底前", "年内",
    "上半年", "第一季度末", "三季度末前", "本月底前", "下月10日前", "次年3月底前",
    "明年6月底前", "2020年12月31日24时前", "2020-12-31", "2020/9/1前",
    "2020年9月底、12月底前", "3日内", "7天内", "两周内", "1个月内", "24小时内",
    "5个工作日内", "十五个工作日内", "三十日内", "元旦前", "春节前", "国庆节前",
    "2020年9月至2020年12月", "9月21日至12月20日", "2020年1月至3月底", "2021年", "2020年8月",
    "每季度末", "每月1日前", "每周五前", "每周", "每半年", "每年2次", "立整立改",
    "立整立改\n长期坚持", "长期坚持", "二〇二〇年底前", "2020年底前完成",
    "力争在2022年底前基本整改完毕", "于每月1日前上传", "12月25日前报送工作总结",
    "整治方案请于8月25日前报学校综治办汇总", "2019年11月20日起至12月底", "随便写写",
)


def _ours() -> None:
    for expression in EXPRESSIONS:
        try:
            parse_deadline(expression, REF, ZONE)
        except DeadlineError:
            pass


def _load_jionlp() -> Callable[[], None] | None:
    """A callable parsing every expression with JioNLP, or None if it is not installed."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints a banner on import
            import jionlp
    except Exception as exc:  # noqa: BLE001 - any import failure means "no baseline"
        print(f"bench_deadline: jionlp unavailable ({exc!r})", file=sys.stderr)
        return None
    base = REF.timestamp()

    def run() -> None:
        logging.disable(logging.CRITICAL)  # it logs a traceback for each text it cannot read
        try:
            for expression in EXPRESSIONS:
                try:
                    jionlp.parse_time(expression, time_base=base)
                except Exception:  # noqa: BLE001,S110 - failures cost time like successes
                    pass
        finally:
            logging.disable(logging.NOTSET)

    return run


def _batch_seconds(fn: Callable[[], None], inner: int) -> float:
    """Seconds per call of `fn`, over `inner` calls in a row."""
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


def _paired(ours: Callable[[], None], theirs: Callable[[], None], rounds: int,
            inner: tuple[int, int]) -> tuple[float, float]:
    """Expressions per second of each, from the round whose ratio is the median.

    Each round times both, one right after the other (the order swapped every round),
    so the two figures of a round saw the machine at the same pace; a shared machine's
    pace swings by a third within a minute, which moved a ratio of best rounds taken
    apart by as much. Both figures come from that one round, so they are true of the
    same moment, and the ratio printed is the median of the rounds' ratios.
    """
    pairs: list[tuple[float, float]] = []
    for round_ in range(rounds):
        times = [0.0, 0.0]
        order = [(0, ours), (1, theirs)] if round_ % 2 == 0 else [(1, theirs), (0, ours)]
        for side, fn in order:
            times[side] = _batch_seconds(fn, inner[side])
        pairs.append((len(EXPRESSIONS) / times[0], len(EXPRESSIONS) / times[1]))
    pairs.sort(key=lambda pair: pair[0] / pair[1])
    return pairs[len(pairs) // 2]


def run(quick: bool) -> list[Result]:
    _ours()  # warm-up: imports and first-call costs
    jio = _load_jionlp()
    if jio is None:
        baseline, name = math.nan, "jionlp.parse_time: NOT INSTALLED here, no comparison made"
        ours = len(EXPRESSIONS) / min(_batch_seconds(_ours, 20) for _ in range(3 if quick else 15))
    else:
        start = time.perf_counter()
        jio()  # warm-up: JioNLP loads its dictionaries on the first call
        print(f"bench_deadline: jionlp warm-up {time.perf_counter() - start:.2f} s", file=sys.stderr)
        ours, baseline = _paired(_ours, jio, rounds=5 if quick else 31, inner=(20, 2))
        name = (f"jionlp.parse_time, same {len(EXPRESSIONS)} expressions, same run, "
                "median of paired rounds")
    print(
        f"bench_deadline: ours {1e6 / ours:.1f} µs/expr, jionlp "
        f"{1e6 / baseline if baseline == baseline else float('nan'):.1f} µs/expr, "
        f"ratio {ours / baseline:.1f}x",
        file=sys.stderr,
    )
    return [
        Result(
            name="deadline parse (expressions/s, uncached)",
            figure=ours,
            baseline=baseline,
            unit="expr/s",
            baseline_name=name,
            target=10.0,
            higher_is_better=True,
        )
    ]
