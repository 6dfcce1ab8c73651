"""The one sandbox for templates people write in the product (macros, email templates): Django template syntax with
an allow-list of tags and filters, and a bounded cost.

Why a sandbox: the text is written by agents and admins and rendered in a worker for everyone. A 114-byte macro with
``ljust`` and a huge width built a 1.2 GB reply (issue #9). So:

- Only the tags in ``ALLOWED_TAGS`` and the filters in ``ALLOWED_FILTERS`` exist, the ``i18n`` tags among them.
  No loaders, so nothing can be included or extended, and no ``load``.
- The context holds plain strings and numbers (callers make sure), so a template can read nothing else.
- Limits hold *while* rendering: padding filters refuse widths over ``MAX_PAD_WIDTH``, every filter refuses to
  return more than the output budget, each piece of output is counted as it is produced and the render stops
  at the budget, and all loops of one render together run at most ``MAX_LOOP_ITERATIONS`` times.

Every refusal is a ``TemplateRefused`` (a ValidationFailed) with a translated message; callers name the field.
"""

from __future__ import annotations

import contextvars
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.template import Context, Engine, Library, Node, Template, TemplateSyntaxError, defaultfilters, defaulttags
from django.template.base import Lexer, TokenType
from django.template.defaulttags import ForNode
from django.templatetags import i18n
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.core.errors import ValidationFailed

__all__ = [
    "ALLOWED_FILTERS",
    "ALLOWED_TAGS",
    "MAX_LOOP_ITERATIONS",
    "MAX_OUTPUT_CHARS",
    "MAX_PAD_WIDTH",
    "TemplateRefused",
    "check_template",
    "render_template",
]

# A reply or an email of 100,000 characters beyond what the context itself holds (a quoted message) is no reply.
MAX_OUTPUT_CHARS = 100_000
MAX_LOOP_ITERATIONS = 1_000
MAX_PAD_WIDTH = 200

ALLOWED_TAGS = (
    "if",
    "for",
    "with",
    "firstof",
    "cycle",
    "resetcycle",
    "now",
    "comment",
    "spaceless",
    "autoescape",
    "filter",
    "verbatim",
    "templatetag",
    "translate",
    "trans",
    "blocktranslate",
    "blocktrans",
    "get_current_language",
)
# The words that continue or end an allowed tag.
_INNER_WORDS = frozenset(
    [
        "elif",
        "else",
        "endif",
        "empty",
        "endfor",
        "endwith",
        "endcomment",
        "endspaceless",
        "endautoescape",
        "endfilter",
        "endverbatim",
        "plural",
        "endblocktranslate",
        "endblocktrans",
    ]
)
# Filters that turn a value into at most a bounded multiple of itself. Left out: those that repeat or pad without
# a limit (stringformat, floatformat's precision, join), parse HTML or URLs with backtracking regexes (striptags,
# truncate*_html, urlize) or reach into structures (dictsort, unordered_list, pprint, json_script, make_list).
ALLOWED_FILTERS = (
    "add",
    "addslashes",
    "capfirst",
    "center",
    "cut",
    "date",
    "default",
    "default_if_none",
    "divisibleby",
    "escape",
    "escapejs",
    "filesizeformat",
    "first",
    "force_escape",
    "get_digit",
    "iriencode",
    "last",
    "length",
    "linebreaks",
    "linebreaksbr",
    "linenumbers",
    "ljust",
    "lower",
    "phone2numeric",
    "pluralize",
    "rjust",
    "safe",
    "slice",
    "slugify",
    "time",
    "timesince",
    "timeuntil",
    "title",
    "truncatechars",
    "truncatewords",
    "upper",
    "urlencode",
    "wordcount",
    "wordwrap",
    "yesno",
)
_PADDING = frozenset(("center", "ljust", "rjust"))

TAG_NOT_ALLOWED = gettext_noop("The tag “%(name)s” cannot be used here. Tags you can use: %(allowed)s.")
FILTER_NOT_ALLOWED = gettext_noop("The filter “%(name)s” cannot be used here. Filters you can use: %(allowed)s.")
PAD_TOO_WIDE = gettext_noop("The filter “%(name)s” can pad to at most %(max)d characters.")
OUTPUT_TOO_LONG = gettext_noop("The template produces more than %(max)d characters.")
TOO_MANY_LOOPS = gettext_noop("The template's loops run more than %(max)d times.")
TOO_DEEP = gettext_noop("The template nests its tags too deeply.")
SYNTAX_ERROR = gettext_noop("The template has an error: %(error)s")
CANNOT_RENDER = gettext_noop("The template cannot be rendered: %(error)s")


class TemplateRefused(ValidationFailed):
    code = "template_refused"


@dataclass
class _Budget:
    output_left: int
    loops_left: int

    def spend_output(self, produced: int) -> None:
        self.output_left -= produced
        if self.output_left < 0:
            raise TemplateRefused(_(OUTPUT_TOO_LONG) % {"max": MAX_OUTPUT_CHARS})

    def spend_loops(self, count: int) -> None:
        self.loops_left -= count
        if self.loops_left < 0:
            raise TemplateRefused(_(TOO_MANY_LOOPS) % {"max": MAX_LOOP_ITERATIONS})


_BUDGET: contextvars.ContextVar[_Budget] = contextvars.ContextVar("template_budget")


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)  # keeps __wrapped__, so Django checks the arguments of the real filter
    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        if name in _PADDING and args:
            width = int(args[0])
            if width > MAX_PAD_WIDTH:
                raise TemplateRefused(_(PAD_TOO_WIDE) % {"name": name, "max": MAX_PAD_WIDTH})
        result = function(value, *args, **kwargs)
        budget = _BUDGET.get(None)
        if isinstance(result, str) and budget is not None and len(result) > budget.output_left:
            raise TemplateRefused(_(OUTPUT_TOO_LONG) % {"max": MAX_OUTPUT_CHARS})
        return result

    # The flags Django reads off a filter (autoescaping, timezone) stay true of the wrapper.
    for flag in ("is_safe", "needs_autoescape", "expects_localtime"):
        if hasattr(function, flag):
            setattr(bounded, flag, getattr(function, flag))
    return bounded


def _library() -> Library:
    library = Library()
    available = {**defaulttags.register.tags, **i18n.register.tags}
    for tag in ALLOWED_TAGS:
        library.tags[tag] = available[tag]
    for name in ALLOWED_FILTERS:
        library.filters[name] = _bounded_filter(name, defaultfilters.register.filters[name])
    return library


def _engine() -> Engine:
    engine = Engine(loaders=[], libraries={}, builtins=[])
    engine.template_builtins = [_library()]
    return engine


_ENGINE = _engine()
_FILTER_NAMES = re.compile(r"\|\s*(\w+)")
_TRANSLATE_STRING = re.compile(r"\"[^\"]*\"|'[^']*'")


def _refuse_unknown_names(source: str) -> None:
    """Name the first tag or filter outside the allow-list (Django's own message suggests loading a library)."""
    for token in Lexer(source).tokenize():
        if token.token_type not in (TokenType.BLOCK, TokenType.VAR):
            continue
        contents = token.contents
        if token.token_type == TokenType.BLOCK:
            command = contents.split()[0] if contents.split() else ""
            if command not in ALLOWED_TAGS and command not in _INNER_WORDS:
                raise TemplateRefused(
                    _(TAG_NOT_ALLOWED) % {"name": command, "allowed": ", ".join(ALLOWED_TAGS)}, code="tag_not_allowed"
                )
        for name in _FILTER_NAMES.findall(_TRANSLATE_STRING.sub("", contents)):
            if name not in ALLOWED_FILTERS:
                raise TemplateRefused(
                    _(FILTER_NOT_ALLOWED) % {"name": name, "allowed": ", ".join(ALLOWED_FILTERS)},
                    code="filter_not_allowed",
                )


class _BoundedSequence:
    """What a ``{% for %}`` loops over, charged to the render's loop budget before the loop starts."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def resolve(self, context: Context, ignore_failures: bool = False) -> Any:
        values = self.inner.resolve(context, ignore_failures=ignore_failures)
        if values is None:
            return values
        if not hasattr(values, "__len__"):
            values = list(_first(values, MAX_LOOP_ITERATIONS + 1))
        _BUDGET.get().spend_loops(len(values))
        return values


def _first(values: Any, count: int) -> Iterator[Any]:
    for index, value in enumerate(values):
        if index >= count:
            return
        yield value


def _counted(render: Callable[[Context], Any]) -> Callable[[Context], Any]:
    def counted_render(context: Context) -> Any:
        produced = render(context)
        _BUDGET.get().spend_output(len(str(produced)))
        return produced

    return counted_render


def _compile(source: str) -> Template:
    _refuse_unknown_names(source)
    try:
        template = _ENGINE.from_string(source)
    except TemplateRefused:
        raise
    except TemplateSyntaxError as exc:
        raise TemplateRefused(_(SYNTAX_ERROR) % {"error": str(exc)[:300]}) from exc
    except RecursionError as exc:
        raise TemplateRefused(_(TOO_DEEP)) from exc
    for node in template.nodelist.get_nodes_by_type(Node):
        if isinstance(node, ForNode):
            node.sequence = _BoundedSequence(node.sequence)  # type: ignore[assignment]
        # Output is counted where it is made (text, variables, leaf tags): containers only join their children's.
        if not any(getattr(node, name, None) for name in node.child_nodelists):
            # render_annotated, not render: a text node answers from render_annotated directly.
            node.render_annotated = _counted(node.render_annotated)  # type: ignore[method-assign,assignment]
    return template


def _context_size(value: Any, depth: int = 0) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict) and depth < 5:
        return sum(_context_size(item, depth + 1) for item in value.values())
    if isinstance(value, list | tuple) and depth < 5:
        return sum(_context_size(item, depth + 1) for item in value)
    return 0


def check_template(source: str) -> None:
    """Refuse ``source`` when it uses a tag or filter outside the allow-list or does not compile."""
    _compile(source)


def render_template(source: str, context: dict[str, Any], *, autoescape: bool) -> str:
    """Render ``source`` with ``context`` (plain strings and numbers) inside the limits, or raise TemplateRefused.
    The output budget is ``MAX_OUTPUT_CHARS`` beyond the size of the context, which a template may show once."""
    template = _compile(source)
    budget = _Budget(output_left=MAX_OUTPUT_CHARS + _context_size(context), loops_left=MAX_LOOP_ITERATIONS)
    token = _BUDGET.set(budget)
    try:
        return template.render(Context(context, autoescape=autoescape))
    except TemplateRefused:
        raise
    except RecursionError as exc:
        raise TemplateRefused(_(TOO_DEEP)) from exc
    except Exception as exc:  # a filter given a bad argument, a tag misused: the author's to fix, never a 500
        raise TemplateRefused(_(CANNOT_RENDER) % {"error": str(exc)[:300]}) from exc
    finally:
        _BUDGET.reset(token)


# What the template editors show under the field (deskloop/templates/_template_rules.html).
RULES = {
    "tags": ALLOWED_TAGS,
    "filters": ALLOWED_FILTERS,
    "max_output": MAX_OUTPUT_CHARS,
    "max_loops": MAX_LOOP_ITERATIONS,
    "max_pad": MAX_PAD_WIDTH,
}
