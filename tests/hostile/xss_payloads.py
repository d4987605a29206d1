"""Cross-site scripting payloads for newsloom, in the spirit of the OWASP XSS Filter Evasion Cheat Sheet.

Written for this project (not copied from a list): each payload, if it ever ran in a page, would set
``window.__xss`` (``top.__xss`` / ``parent.__xss`` from a frame) or open a dialog with ``alert()``, which the
browser tests watch for. They are grouped by the filter they try to slip past. None of them names an outside
host: relative sources (``src=x``) fail on the test server itself, so ``onerror`` fires without any network.

``HOSTILE_URLS`` are link targets that must never become clickable (feed item links, OPML addresses, site
URLs); ``ALL`` is every markup payload, each with a short name for failure messages.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Payload:
    name: str
    markup: str


_PAYLOADS = {
    # Script elements: casing, junk in the tag name, stray brackets, sources by data: URL.
    "script": "<script>window.__xss=1</script>",
    "script-upper": "<SCRIPT>window.__xss=1</SCRIPT>",
    "script-mixed-case": "<ScRiPt>window.__xss=1</sCrIpT>",
    "script-slash-junk": "<script/xss>window.__xss=1</script>",
    "script-extra-brackets": "<<script>window.__xss=1;//<</script>",
    "script-unclosed": "<script>window.__xss=1//",
    "script-data-src": '<script src="data:text/javascript,window.__xss=1"></script>',
    # Event handlers on elements that fire by themselves (load, error, focus, toggle, animation).
    "img-onerror": '<img src=x onerror="window.__xss=1">',
    "img-onerror-upper": "<IMG SRC=x ONERROR=window.__xss=1>",
    "img-onerror-decimal-entities": "<img src=x onerror=&#119;&#105;&#110;dow.__xss=1>",
    "img-onerror-hex-entities": '<img src=x onerror="&#x77;&#x69;&#x6E;&#x64;&#x6F;&#x77;.__xss=1">',
    "img-onerror-slashes-no-spaces": '<img/src="x"/onerror=alert(1)>',
    "img-malformed-quotes": '<IMG """><SCRIPT>window.__xss=1</SCRIPT>">',
    "img-grave-accents": "<img src=`x` onerror=`window.__xss=1`>",
    "svg-onload": "<svg onload=window.__xss=1>",
    "svg-slash-onload": "<svg/onload=window.__xss=1>",
    "svg-script": "<svg><script>window.__xss=1</script></svg>",
    "svg-animate-onbegin": '<svg><animate onbegin="window.__xss=1" attributeName="x" dur="1s"/></svg>',
    "svg-set-onbegin": '<svg><set onbegin="window.__xss=1" attributeName="x" to="1"/></svg>',
    "svg-set-href": '<svg><a><set attributeName="href" to="javascript:window.__xss=1"/><text y="20">x</text></a></svg>',
    "body-onload": "<body onload=window.__xss=1>",
    "input-autofocus": "<input autofocus onfocus=window.__xss=1>",
    "details-ontoggle": "<details open ontoggle=window.__xss=1><summary>x</summary></details>",
    "video-source-onerror": "<video><source onerror=window.__xss=1></video>",
    "audio-onerror": "<audio src=x onerror=window.__xss=1></audio>",
    "marquee-onstart": "<marquee onstart=window.__xss=1>x</marquee>",
    "handler-string-concat": "<img src=x onerror=\"window['__x'+'ss']=1\">",
    # URLs with script schemes: plain, cased, entity-encoded, split by whitespace or control characters.
    "a-javascript": '<a href="javascript:window.__xss=1">link</a>',
    "a-javascript-cased": '<a href="JaVaScRiPt:window.__xss=1">link</a>',
    "a-javascript-tab-entity": '<a href="jav&#x09;ascript:window.__xss=1">link</a>',
    "a-javascript-newline-entity": '<a href="jav&#x0A;ascript:window.__xss=1">link</a>',
    "a-javascript-leading-junk": '<a href=" &#14;  javascript:window.__xss=1">link</a>',
    "a-javascript-decimal": (
        '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;window.__xss=1">link</a>'
    ),
    "a-javascript-hex-no-semicolons": (
        '<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A window.__xss=1">link</a>'
    ),
    "a-javascript-named-colon": '<a href="javascript&colon;window.__xss=1">link</a>',
    "a-vbscript": '<a href="vbscript:window.__xss=1">link</a>',
    "a-data-html": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">link</a>',
    "img-javascript-src": '<img src="javascript:window.__xss=1">',
    # Frames, objects, forms, meta refresh, base: elements that load or submit a script URL.
    "iframe-srcdoc": '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    "iframe-javascript": '<iframe src="javascript:parent.__xss=1"></iframe>',
    "iframe-data": '<iframe src="data:text/html,<script>alert(1)</script>"></iframe>',
    "object-data": '<object data="javascript:window.__xss=1"></object>',
    "embed-src": '<embed src="javascript:window.__xss=1">',
    "form-action": '<form action="javascript:window.__xss=1"><button>go</button></form>',
    "button-formaction": '<form><button formaction="javascript:window.__xss=1">go</button></form>',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=1">',
    "base-href": '<base href="javascript:window.__xss=1//">',
    "link-stylesheet": '<link rel="stylesheet" href="javascript:window.__xss=1">',
    # Styles: old IE expression(), url(javascript:), @import.
    "style-attr-url": '<div style="background:url(javascript:window.__xss=1)">x</div>',
    "style-attr-expression": '<div style="width:expression(window.__xss=1)">x</div>',
    "style-import": "<style>@import 'javascript:window.__xss=1';</style>",
    # htmx attributes: the pages load htmx, which would act on hx-* markup that survived.
    "htmx-on": '<div hx-on::load="window.__xss=1" hx-get="/" hx-trigger="load">x</div>',
    "htmx-vals-js": '<button hx-post="/" hx-vals="js:{a: window.__xss=1}" hx-trigger="load">x</button>',
    # Templates and parser-differential (mutation XSS) tricks.
    "template-img": "<template><img src=x onerror=window.__xss=1></template>",
    "noscript-title": '<noscript><p title="</noscript><img src=x onerror=window.__xss=1>"></noscript>',
    "math-mglyph-style": "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    "svg-p-style": '<svg></p><style><a id="</style><img src=x onerror=window.__xss=1>">',
    "comment-breakout": "<!--<img src=x --><img src=x onerror=window.__xss=1>-->",
    "cdata-breakout": "<![CDATA[><img src=x onerror=window.__xss=1>]]>",
    # Breaking out of the context a value is written into: attributes, <title>, <textarea>, JSON strings.
    "attr-double-quote": '"><script>window.__xss=1</script>',
    "attr-single-quote": "'><img src=x onerror=window.__xss=1>",
    "attr-inject-autofocus": '" autofocus onfocus="window.__xss=1" x="',
    "title-breakout": "</title><script>window.__xss=1</script>",
    "textarea-breakout": "</textarea><img src=x onerror=window.__xss=1>",
    "json-string-breakout": '";window.__xss=1;//</script><script>window.__xss=1</script>',
    "unicode-escapes": "\\u003cscript\\u003ewindow.__xss=1\\u003c/script\\u003e",
    "fullwidth-brackets": "\uff1cscript\uff1ewindow.__xss=1\uff1c/script\uff1e",
    "null-byte-in-tag": "<scr\x00ipt>window.__xss=1</scr\x00ipt>",
}

ALL: tuple[Payload, ...] = tuple(Payload(name, markup) for name, markup in _PAYLOADS.items())

#: Payloads that do nothing when written raw into a page: they attack a context (an attribute value, a
#: JavaScript string, a sanitizer's re-serialization) rather than the HTML parser itself.
INERT_OUTSIDE_THEIR_CONTEXT = frozenset(
    {"template-img", "attr-inject-autofocus", "unicode-escapes", "fullwidth-brackets",
     "null-byte-in-tag"}
)  # fmt: skip

#: Link targets that must never be clickable in a page (each would run script if followed).
HOSTILE_URLS: tuple[str, ...] = (
    "javascript:window.__xss=1",
    "JAVASCRIPT:window.__xss=1",
    " javascript:window.__xss=1",
    "java\tscript:window.__xss=1",
    "vbscript:window.__xss=1",
    "data:text/html,<script>window.__xss=1</script>",
)

#: What a page must not contain once hostile content is in it: the browser test evaluates this in every
#: page and expects an empty list (each entry says which element and attribute). It catches payloads that
#: would only run on a click or a hover, which merely loading a page does not trigger.
DOM_AUDIT_JS = r"""
() => {
  const found = [];
  const scriptUrl = /^(javascript|vbscript|data):/;
  const urlAttributes = new Set(["href", "src", "action", "formaction", "data", "xlink:href", "background",
                                 "poster", "srcset", "ping", "to", "values", "from", "by"]);
  for (const el of document.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    for (const attribute of el.attributes) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.replace(/[\u0000-\u0020]/g, "").toLowerCase();
      if (name.startsWith("on") || name.startsWith("hx-on") || name === "srcdoc" || name === "hx-vals" && value.startsWith("js:")) {
        found.push(`${tag}[${name}]`);
      } else if (urlAttributes.has(name) && scriptUrl.test(value) && !(tag === "img" && value.startsWith("data:image/"))) {
        found.push(`${tag}[${name}=${value.slice(0, 40)}]`);
      } else if (name === "style" && /expression|javascript:|url\(/.test(value)) {
        found.push(`${tag}[style]`);
      }
    }
    if (tag === "script" && !el.src) found.push("inline <script>");
    if (tag === "style") found.push("<style>");
    if (["iframe", "object", "embed", "base", "frame", "frameset", "applet"].includes(tag)) found.push(`<${tag}>`);
    if (tag === "meta" && (el.getAttribute("http-equiv") || "").toLowerCase() === "refresh") found.push("<meta refresh>");
    if (tag === "link" && el.rel !== "stylesheet" && el.rel !== "icon" && el.rel !== "manifest" && el.rel !== "alternate") {
      found.push(`<link rel=${el.rel}>`);
    }
  }
  return found;
}
"""
