"""`{% renderonce %}…{% endrenderonce %}`: markup that is the same on every page for every
viewer, rendered once per worker and then replayed.

The header's product links, the search form and the footer are built from `{% url %}` tags
and text alone, yet reversing their dozen URL names is a noticeable share of every page's
time. Inside the block there is no context at all (it renders in an empty one), so it cannot
show anything of a request, a viewer or the data: its output depends only on the URLconf and
the script prefix, both fixed for a worker's life (the prefix is part of the key anyway). A
template file that changes is loaded again as new nodes, so no old copy can be replayed.
Keep `{% static %}` out of it: the storage, not the template, decides those URLs.
"""

from __future__ import annotations

from django import template
from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


class RenderOnceNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist
        self._rendered: dict[str, SafeString] = {}

    def render(self, context: template.Context) -> SafeString:
        prefix = get_script_prefix()
        html = self._rendered.get(prefix)
        if html is None:
            # `new()` keeps the engine (for includes) and drops every variable.
            html = mark_safe(self.nodelist.render(context.new()))
            self._rendered[prefix] = html
        return html


@register.tag
def renderonce(parser: template.base.Parser, token: template.base.Token) -> RenderOnceNode:
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("renderonce takes no arguments")
    nodelist = parser.parse(("endrenderonce",))
    parser.delete_first_token()
    return RenderOnceNode(nodelist)
