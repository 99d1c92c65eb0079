"""Template markup and URLs that are the same on every page for every viewer, built once per
worker. This library is a builtin (settings.TEMPLATES): every template has both tags.

`{% url %}` with only literal arguments (`{% url 'plans' %}`, `{% url 'codes:system_detail'
system='cpt' %}`) keeps what it reversed: the same inputs always reverse to the same path, and a
page names a dozen such URLs. With any variable among its arguments it is Django's own tag.

`{% renderonce %}…{% endrenderonce %}`: a block rendered once per worker and then replayed. The
header's product links, the search form and the footer are `{% url %}` tags and text alone.
The block renders in an empty context, so it cannot show anything of a request, a viewer or the
data. Keep `{% static %}` out of it: the storage, not the template, decides those URLs.

Both keep their output by what URLs depend on (script prefix, URLconf, language), all fixed for
a worker's life in practice. A template file that changes is loaded again as new nodes, so no
old copy can be replayed.
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.template import defaulttags
from django.template.base import FilterExpression, Variable
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()


def _url_inputs(context: template.Context) -> tuple:
    """Everything besides a tag's own arguments that a reversed URL depends on."""
    return (
        get_script_prefix(),
        get_urlconf() or settings.ROOT_URLCONF,
        get_language(),  # for language-prefixed URL patterns, should there ever be any
        context.autoescape,
    )


class LiteralURLNode(defaulttags.URLNode):
    """Django's URL node for a URL whose arguments are all literals, remembering its output."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._rendered: dict[tuple, str] = {}

    def render(self, context: template.Context) -> str:
        request = getattr(context, "request", None)
        try:  # as URLNode picks it
            current_app = request.current_app
        except AttributeError:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        key = (*_url_inputs(context), current_app)
        url = self._rendered.get(key)
        if url is None:
            url = self._rendered[key] = super().render(context)
        return url


def _is_literal(expression: FilterExpression) -> bool:
    return not isinstance(expression.var, Variable) and not expression.filters


@register.tag
def url(parser: template.base.Parser, token: template.base.Token) -> defaulttags.URLNode:
    node = defaulttags.url(parser, token)
    expressions = [node.view_name, *node.args, *node.kwargs.values()]
    if node.asvar or not all(_is_literal(expression) for expression in expressions):
        return node
    return LiteralURLNode(node.view_name, node.args, node.kwargs, node.asvar)


class RenderOnceNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist
        self._rendered: dict[tuple, SafeString] = {}

    def render(self, context: template.Context) -> SafeString:
        key = _url_inputs(context)
        html = self._rendered.get(key)
        if html is None:
            # `new()` keeps the engine (for includes) and drops every variable.
            html = mark_safe(self.nodelist.render(context.new()))
            self._rendered[key] = html
        return html


@register.tag
def renderonce(parser: template.base.Parser, token: template.base.Token) -> RenderOnceNode:
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("renderonce takes no arguments")
    nodelist = parser.parse(("endrenderonce",))
    parser.delete_first_token()
    return RenderOnceNode(nodelist)
