"""Man pages for the ``flotod`` commands, rendered from their argparse parsers.

One page per command, named git-style (``flotod-workflow(1)``, which ``man flotod workflow``
also finds). The flags, metavars and help come from the parsers, so a page cannot drift from
``--help``; what a parser cannot say (why, examples, exit codes) is the data in
:data:`NOTES`. The pages are committed under ``man/`` and shipped by the Debian package; a
test fails when they are stale. Regenerate with ``python -m flotod.cli.manpage man``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from flotod import __version__

# The date in each page's header. It is fixed, not today's, so that regenerating unchanged
# pages changes nothing; bump it when the pages' content changes.
PAGES_DATE = "2024-11-27"


@dataclass(frozen=True)
class Notes:
    """What an operator needs on a page beyond the parser: prose, examples, exit codes."""

    description: tuple[str, ...] = ()
    examples: tuple[tuple[str, str], ...] = ()  # (what it does, the command line)
    exit_status: tuple[tuple[str, str], ...] = ()
    see_also: tuple[str, ...] = ()
    # Help for arguments the parser leaves without any, keyed "ACTION DEST" ("" = no action).


_PARSE_ERROR = ("2", "The command line could not be parsed (argparse's usage error).")
_SWF_DOWN = (
    "69",
    "SWF could not be reached, or refused the request (for example: throttled, "
    "unknown domain or type, access denied).",
)
_BAD_CONFIG = ("78", "The configuration is invalid (EX_CONFIG); nothing was sent to SWF.")

_CREDENTIALS = (
    "Credentials are the ones the services use, found the same way: static keys in [swf]; "
    "else what the environment names (AWS_ACCESS_KEY_ID, AWS_SHARED_CREDENTIALS_FILE, "
    "AWS_PROFILE); else the aws-credentials file next to the configuration "
    "(/etc/flotod/aws-credentials, which the units receive with LoadCredential=), with [swf] "
    "profile or default; else, against an embedded endpoint on a loopback address, fixed "
    "local credentials (it checks none); else boto3's default chain (~/.aws, the instance "
    "profile). --verbose says which source was used."
)

NOTES: dict[str, Notes] = {
    "register": Notes(
        description=(
            "What is registered comes from the same configuration the services run with: "
            "each decider's workflow type (and the child workflow types its spec starts), "
            "the activities of each worker's modules, and the daemon's two workflow types. "
            "Every table is validated first, so a bad one stops the command before SWF is "
            "touched. Registering is idempotent: what exists is reported as already "
            "registered and left as it is.",
            _CREDENTIALS,
        ),
        examples=(
            ("Register everything the host's configuration names:", "flotod register"),
            (
                "Against the embedded endpoint, keeping domain history for a week:",
                "flotod register --endpoint-url http://127.0.0.1:4566 --retention-days 7",
            ),
        ),
        exit_status=(("0", "Everything is registered."), _PARSE_ERROR, _SWF_DOWN, _BAD_CONFIG),
        see_also=("flotod-workflow(1)", "flotod-config(1)"),
    ),
    "workflow": Notes(
        description=(
            "Every action takes the workflow id an operator knows. The run id defaults to "
            "the newest run with that id, so nobody has to copy run ids around. With --json "
            "an action prints one JSON document for scripts. The endpoint and domain come "
            "from the services' configuration unless overridden.",
            "Results, failure details and history come from whoever started, signalled or "
            "failed a workflow: printed for a terminal, their control characters are shown "
            "as escapes (\\x1b, \\u202e), never sent to the terminal raw; --json prints them "
            "exactly, as valid JSON. show prints a result or failure details on one line, cut "
            "with a marker that says how much is missing; --full prints them whole.",
            _CREDENTIALS,
        ),
        examples=(
            (
                "Start the sample workflow, wait for it and print its result:",
                "flotod workflow start hello --wait",
            ),
            (
                "Start with input read from a file and a fixed workflow id:",
                "flotod workflow start orders:v2 --id order-42 --input @order-42.json",
            ),
            (
                "Executions that failed in the last two hours:",
                "flotod workflow list --status FAILED --hours 2",
            ),
            (
                "Where an execution stands, then its events with decision tasks:",
                "flotod workflow show order-42\nflotod workflow history order-42 --all",
            ),
            (
                "A failure's whole details (a traceback, a child's failure):",
                "flotod workflow show order-42 --full",
            ),
            (
                "Ask the daemon for a child workflow (the spec is in the file):",
                "flotod workflow signal flotod_daemon startChildWorkflowExecution "
                "--input @child.json",
            ),
            (
                "End a stuck execution at once, saying why:",
                'flotod workflow terminate order-42 --reason "bad deploy, rerun after fix"',
            ),
        ),
        exit_status=(
            ("0", "Done; for start --wait, the execution completed."),
            ("1", "start --wait: the execution closed, but not as completed."),
            _PARSE_ERROR,
            ("64", "No action given, or filters SWF cannot combine."),
            _SWF_DOWN,
            _BAD_CONFIG,
        ),
        see_also=("flotod-register(1)",),
    ),
    "replay": Notes(
        description=(
            "A run's history records, for each decision task, the events the decider saw "
            "and the decisions it made. flotod replay gives each decision task's events (up "
            "to its DecisionTaskStarted, exactly what the decider was given) to the spec and "
            "compares what it decides, in order, with what the history shows: ids, types, "
            "inputs, controls, timer delays, closing results. Decisions SWF refused count by "
            "what SWF kept of them (a completion refused with UNHANDLED_DECISION is still a "
            "completion); timestamps are not compared. It stops at the first decision task "
            "that differs and prints it as one block: the task's event ids, the ids "
            "involved, what differs, and both lists of decisions.",
            "The history comes from a file (the JSON that flotod workflow history --json "
            "prints, or an object with an events list and the run's workflow_id) or from "
            "SWF. The spec comes from --spec FILE or from the configuration's "
            "[decider.NAME] table, exactly as flotod-decider would load it (spec_file, "
            "spec_object, dynamic, or specs: each run with the spec of its workflow type "
            "version). Nothing is sent to SWF but reads.",
            "With several files or --all-open each run gets its line (and its divergence), "
            "then one line counts them; with --json, one document with a runs list. A run "
            "that cannot be read is reported and the others are still replayed.",
            "Before shipping a spec change, save histories of production runs as fixtures "
            "and replay them against the new spec in CI; before reloading a decider, "
            "replay its open runs with --all-open (flotod-decider --check-config and the "
            "reload itself run the same check and refuse a diverging spec). A change that "
            "diverges must ship as a new workflow type version (specs), so that runs in "
            "flight finish on the old spec.",
        ),
        examples=(
            (
                "Save a production run's history, then check a changed spec against it:",
                "flotod workflow history order-42 --json > fixtures/order-42.json\n"
                "flotod replay fixtures/order-42.json --spec specs/order.json",
            ),
            (
                "Check every open run of a decider against the spec its config names now:",
                "flotod replay --all-open --instance orders",
            ),
            (
                "One run straight from SWF, JSON for a script:",
                "flotod replay --workflow-id order-42 --instance orders --json",
            ),
        ),
        exit_status=(
            ("0", "The spec decides what every history shows."),
            ("1", "At least one history diverges; the first divergence of each is printed."),
            (
                "2",
                "A history or the spec cannot be read (a missing or malformed file, a "
                "history without its WorkflowExecutionStarted, an invalid config or spec, "
                "SWF unreachable), or the command line is wrong. One line says which. With "
                "several runs: some could not be read and none diverges.",
            ),
        ),
        see_also=("flotod-workflow(1)", "flotod-decider(8)", "flotod.toml(5)"),
    ),
    "config": Notes(
        description=(
            "A service checks only its own table when it starts. Before a deploy, check "
            "the whole host at once: every decider, worker and daemon table, each problem "
            "on its own line, without contacting SWF.",
        ),
        examples=(
            ("Check the installed configuration:", "flotod config check"),
            (
                "Check a new configuration before copying it into place:",
                "flotod config check --config /srv/flotod-next --json",
            ),
        ),
        exit_status=(
            ("0", "Every table is valid."),
            _PARSE_ERROR,
            ("64", "No action given."),
            ("78", "At least one table has a problem (EX_CONFIG)."),
        ),
        see_also=("flotod.toml(5)", "flotod-decider(8)", "flotod-worker(8)", "flotod-daemon(8)"),
    ),
    "local-swf": Notes(
        description=(
            "It prints its URL on standard output once it listens, and stops on SIGTERM or "
            "SIGINT. It has no authentication: keep it on the loopback address. It needs "
            "the Python package moto, which the Debian package does not ship.",
        ),
        examples=(
            ("Serve on the default port:", "flotod local-swf"),
            (
                "Serve on a free port, and make one call in ten fail with throttling:",
                "flotod local-swf --port 0 --inject-throttling 0.1 --throttling-seed 7",
            ),
        ),
        exit_status=(
            ("0", "Stopped on SIGTERM or SIGINT."),
            _PARSE_ERROR,
            ("64", "An option is out of range."),
            (
                "69",
                "The address cannot be listened on, or moto is not installed (the line says "
                "what to install: pip install 'flotod[local]').",
            ),
        ),
        see_also=("flotod-register(1)", "flotod.toml(5)"),
    ),
    "completion": Notes(
        description=(
            "The script is generated from the same parsers as --help, so it completes every "
            "command, action and flag of flotod, flotod-decider, flotod-worker and "
            "flotod-daemon, and file names after --config, --pidfile and --log-file. The "
            "Debian package installs it already.",
        ),
        examples=(
            ("Complete in the current shell:", "source <(flotod completion bash)"),
            (
                "Install it for your user:",
                "flotod completion bash > ~/.local/share/bash-completion/completions/flotod",
            ),
        ),
        exit_status=(("0", "The script was printed."), _PARSE_ERROR),
    ),
}


def escape(text: str) -> str:
    """Make text literal in roff: backslashes, quotes and hyphens escaped, and no line may
    start with a control character (``.`` or ``'``) and be read as a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = text.replace('"', "\\(dq").replace("'", "\\(aq").replace("`", "\\(ga")
    return "\n".join("\\&" + line if line.startswith(".") else line for line in text.split("\n"))


def _prose(text: str) -> str:
    return escape(" ".join(text.split()))


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of each subcommand, in the order they were added."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            return [(name, helps.get(name, ""), sub) for name, sub in action.choices.items()]
    return []


def command_parsers() -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(command, one-line summary, parser) for each ``flotod`` subcommand."""
    from flotod.cli.main import build_parser  # noqa: PLC0415 (cli.main imports this module)

    return _subcommands(build_parser())


def page_name(command: str) -> str:
    return f"flotod-{command}.1"


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a
        for a in parser._actions
        if a.help != argparse.SUPPRESS and not isinstance(a, argparse._SubParsersAction)
    ]


def _metavar(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The value's placeholder as --help shows it ("" for a flag without a value)."""
    if action.option_strings and action.nargs == 0:
        return ""
    if action.metavar is None and action.choices is not None:
        return action.dest.upper()
    formatter = parser._get_formatter()
    if action.option_strings:
        default = formatter._get_default_metavar_for_optional(action)
    else:
        default = formatter._get_default_metavar_for_positional(action)
    return formatter._format_args(action, default)


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The help as sentences, with the choices and the default when the help omits them."""
    help_text = parser._get_formatter()._expand_help(action) if action.help else ""
    sentences = [_sentence(help_text)]
    if action.choices is not None and action.metavar is None:
        sentences.append(f"One of: {', '.join(str(c) for c in action.choices)}.")
    default = action.default
    quiet = default is None or default is False or default == argparse.SUPPRESS or action.nargs == 0
    said = "default" in help_text.lower() or f"({default})" in help_text
    if not quiet and not said:
        sentences.append(f"Default: {default}.")
    return " ".join(s for s in sentences if s)


def _positional(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """A positional as man-pages(7) writes it: the brackets and the ellipsis of an optional
    or repeatable one are not part of the italic name."""
    name = f"\\fI{escape(str(action.metavar or action.dest.upper()))}\\fR"
    if action.nargs == "?":
        return f"[{name}]"
    if action.nargs == "*":
        return f"[{name} ...]"
    if action.nargs == "+":
        return f"{name} [{name} ...]"
    return f"\\fI{escape(_metavar(parser, action))}\\fR"


def _tag(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    metavar = _metavar(parser, action)
    if not action.option_strings:
        return _positional(parser, action)
    flags = ", ".join(f"\\fB{escape(s)}\\fR" for s in action.option_strings)
    return f"{flags} \\fI{escape(metavar)}\\fR" if metavar else flags


Key = tuple[tuple[str, ...], str | None, object]


def _key(action: argparse.Action) -> Key:
    return tuple(action.option_strings), action.help, action.metavar


def _common_options(parsers: list[argparse.ArgumentParser]) -> list[argparse.Action]:
    """Options every action has alike: documented once instead of once per action."""
    keys = [{_key(a) for a in _options(p)} for p in parsers]
    return [a for a in _options(parsers[0]) if a.option_strings and all(_key(a) in k for k in keys)]


def _synopsis(words: str, parser: argparse.ArgumentParser, common: set[Key]) -> str:
    """One usage line; the options every action shares shrink to ``[options]``. ``\\%``
    keeps a word from being hyphenated, and ``\\ `` a flag on the line of its value."""
    parts = [f"\\fB{escape(words)}\\fR"]
    if common:
        parts.append("[\\fIoptions\\fR]")
    actions = [a for a in _options(parser) if _key(a) not in common]
    for action in sorted(actions, key=lambda a: not a.option_strings):
        metavar = escape(_metavar(parser, action))
        if not action.option_strings:
            parts.append(f"\\%{_positional(parser, action)}")
        elif "-h" not in action.option_strings:
            flag = f"\\fB{escape(action.option_strings[-1])}\\fR"
            parts.append(f"\\%[{flag}\\ \\fI{metavar}\\fR]" if metavar else f"\\%[{flag}]")
    return " ".join(parts)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return ""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _option_list(parser: argparse.ArgumentParser, actions: Iterable[argparse.Action]) -> list[str]:
    out: list[str] = []
    for action in actions:
        out += [".TP", _tag(parser, action)]
        text = _help(parser, action)
        if text:
            out.append(_prose(text))
    return out


def render(command: str, summary: str, parser: argparse.ArgumentParser, notes: Notes) -> str:
    """The whole roff page of ``flotod COMMAND``."""
    name = f"flotod-{command}"
    words = f"flotod {command}"
    actions = _subcommands(parser)
    out = [
        f'.TH {escape(name.upper())} 1 "{PAGES_DATE}" "flotod {escape(__version__)}" "flotod"',
        ".SH NAME",
        f"{escape(name)} \\- {_prose(summary[:1].lower() + summary[1:])}",
        ".SH SYNOPSIS",
        ".ad l",
    ]
    subs = [sub for _, _, sub in actions]
    common = _common_options(subs) if len(subs) > 1 else []
    common_keys = {_key(a) for a in common}
    if actions:
        for action_name, _, sub in actions:
            out += [_synopsis(f"{words} {action_name}", sub, common_keys), ".br"]
        out.pop()
    else:
        out.append(_synopsis(words, parser, common_keys))
    out += [".ad", ".SH DESCRIPTION", _prose(_sentence(parser.description or summary))]
    for paragraph in notes.description:
        out += [".PP", _prose(paragraph)]
    if actions:
        out.append(".SH ACTIONS")
        for action_name, help_text, sub in actions:
            out += [f'.SS "{escape(f"{words} {action_name}")}"', _prose(_sentence(help_text))]
            own = [a for a in _options(sub) if _key(a) not in common_keys]
            out += _option_list(sub, own)
    if common:
        out += [".SH OPTIONS", "Every action takes these options:"]
        out += _option_list(subs[0], common)
    elif not actions:
        out.append(".SH OPTIONS")
        out += _option_list(parser, _options(parser))
    if notes.examples:
        out.append(".SH EXAMPLES")
        for what, line in notes.examples:
            out += [".PP", _prose(what), ".PP", ".RS", ".nf", escape(line), ".fi", ".RE"]
    if notes.exit_status:
        out.append(".SH EXIT STATUS")
        for code, meaning in notes.exit_status:
            out += [".TP", f"\\fB{escape(code)}\\fR", _prose(meaning)]
    out.append(".SH SEE ALSO")
    refs = ("flotod(1)", *notes.see_also)
    for i, ref in enumerate(refs):
        page, _, section = ref.partition("(")
        comma = "," if i < len(refs) - 1 else ""
        out.append(f".BR \\%{escape(page)} ({section}{comma}")
    return "\n".join(out) + "\n"


def render_all() -> dict[str, str]:
    """File name -> page text, for every ``flotod`` subcommand."""
    return {
        page_name(command): render(command, summary, parser, NOTES.get(command, Notes()))
        for command, summary, parser in command_parsers()
    }


def write_pages(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_all().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flotod.cli.manpage", description="Write the flotod-COMMAND.1 man pages."
    )
    parser.add_argument("directory", type=Path, help="where to write them (the repo's man/)")
    args = parser.parse_args(argv)
    for path in write_pages(args.directory):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
