"""A page body the converter cannot fully understand is kept and never rewritten."""

BODY = (
    "<p>Readable start.</p>"
    '<ac:structured-macro ac:name="mystery-macro" ac:schema-version="1">'
    '<ac:parameter ac:name="x">1</ac:parameter><ac:rich-text-body><p>inside</ac:rich-text-body>'
    "</ac:structured-macro><p>Tail <b>unclosed bold</p><unknown-tag attr='1'>odd</unknown-tag>"
)


def body_untouched(ctx):
    page = ctx.page("m")
    assert page.version.number == ctx.captured.get("version", 1), page.version.number
    ctx.captured["version"] = page.version.number


def keep_original(ctx):
    ctx.captured["original"] = ctx.page("m").body


def byte_for_byte(ctx):
    want = ctx.captured["original"].replace("Readable start.", "Readable start, edited.")
    assert ctx.page("m").body == want, (ctx.page("m").body, want)


SCENARIO = {
    "covers": ["D3"],
    "space": {
        "pages": [
            {"key": "m", "title": "Mystery", "body": BODY},
            {"key": "n", "title": "Normal", "body": "<p>Plain.</p>"},
        ]
    },
    "steps": [
        {"op": "sync"},
        {"op": "call", "fn": body_untouched},
        {"op": "call", "fn": keep_original},
        {"op": "sync"},
        {"op": "call", "fn": body_untouched},
        # an edit elsewhere in the file is pushed; the part not understood goes back as it was
        {
            "op": "local.edit",
            "page": "m",
            "replace": ["Readable start.", "Readable start, edited."],
        },
        {"op": "sync"},
    ],
    "checks": [byte_for_byte],
    "expect": {
        "files": {"m": {"contains": ["Readable start, edited.", "Tail"]}},
        "pages": {
            "m": {"version": 2, "contains": ["Readable start, edited.", "mystery-macro", "odd"]}
        },
        "sides_equal": False,
    },
}
