"""A run's time estimate in words: durations the way a reader says them, in either language."""


def format_duration(seconds, lang="en"):
    """``seconds`` the way a reader says it: 'under 1 s', '45 s', '12 min', '3 h 5 min'
    (Korean: '1초 미만', '45초', '12분', '3시간 5분').

    Rounded to the second under a minute, to the minute above it.
    """
    if lang not in ("en", "ko"):
        raise ValueError(f"lang={lang!r}: use 'en' or 'ko'.")
    seconds = max(0.0, float(seconds))
    if seconds < 0.5:
        return "1초 미만" if lang == "ko" else "under 1 s"
    if seconds < 59.5:
        return f"{seconds:.0f}초" if lang == "ko" else f"{seconds:.0f} s"
    minutes = int(round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    if lang == "ko":
        return f"{hours}시간 {minutes}분" if hours and minutes else f"{hours}시간" if hours else f"{minutes}분"
    return f"{hours} h {minutes} min" if hours and minutes else f"{hours} h" if hours else f"{minutes} min"


def _about(seconds, lang="en"):
    text = format_duration(seconds, lang)
    if text in ("1초 미만", "under 1 s"):
        return text
    return f"약 {text}" if lang == "ko" else f"about {text}"


def project_time(seconds_timed, tokens_timed, tokens_total):
    """Scale the time measured on ``tokens_timed`` padded tokens to ``tokens_total`` of them.

    A BERT step costs about the same per padded token (batch size x width) over the
    widths of a fine-tuning run, so tokens, not batches, are what the time scales with.
    """
    if tokens_timed <= 0:
        raise ValueError("project_time: nothing was timed (tokens_timed must be > 0).")
    return seconds_timed * tokens_total / tokens_timed


def describe_time_estimate(estimate):
    """The two lines (Korean, English) that say what an ``estimate_epoch_time`` result means.

    ``estimate`` needs 'device' ('CPU' or 'GPU'), 'batches_timed', 'epochs', 'train_epoch',
    'valid_epoch', 'test' and 'total' (seconds; 'valid_epoch' and 'test' may be 0), and
    'smoke' (True: the tiny model of smoke mode, whose time says nothing about full mode).
    """
    e = estimate
    per_epoch = e["train_epoch"] + e["valid_epoch"]
    ko = (f"예상 시간(이 {e['device']}에서): 에폭당 {_about(per_epoch, 'ko')}"
          + (f"(학습 {format_duration(e['train_epoch'], 'ko')} + 검증 {format_duration(e['valid_epoch'], 'ko')})"
             if e["valid_epoch"] else "")
          + f", {e['epochs']} 에폭이면 {_about(e['epochs'] * per_epoch, 'ko')}"
          + (f", 테스트 평가 {_about(e['test'], 'ko')}" if e["test"] else "")
          + f", 모두 {_about(e['total'], 'ko')}."
          + f" 학습 배치 {e['batches_timed']}개를 재서 토큰 수로 환산했습니다.")
    en = (f"Estimated time: {_about(per_epoch)} per epoch on this {e['device']}"
          + (f" (training {format_duration(e['train_epoch'])} + validation {format_duration(e['valid_epoch'])})"
             if e["valid_epoch"] else "")
          + f", {_about(e['epochs'] * per_epoch)} for {e['epochs']} epoch{'s' * (e['epochs'] != 1)}"
          + (f", test evaluation {_about(e['test'])}" if e["test"] else "")
          + f"; {_about(e['total'])} in all"
          + f" ({e['batches_timed']} training batches timed, scaled by tokens).")
    if e.get("smoke"):
        ko = "[스모크 추정: 작은 무작위 모델의 시간이라 풀 모드와는 상관없습니다] " + ko
        en = "[smoke estimate: the tiny random model's time, which says nothing about full mode] " + en
    return ko, en
