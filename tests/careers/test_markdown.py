from careers.markdown import markdown_plain, markdown_render


def test_markdown_renders_lists_emphasis_and_links():
    html = markdown_render("Code **office visits**.\n\n- one\n- two\n\n[Apply](https://a.example)")
    assert "<strong>office visits</strong>" in html
    assert "<li>one</li>" in html
    assert '<a href="https://a.example" rel="nofollow ugc noopener noreferrer">Apply</a>' in html


def test_script_and_event_handlers_in_markdown_are_removed_with_their_content():
    html = markdown_render(
        'Hi <script>alert("x")</script> <b onclick="steal()">bold</b>\n\n<img src=x onerror=y>'
    )
    assert "script" not in html and "alert" not in html
    assert "onclick" not in html and "onerror" not in html and "<img" not in html


def test_javascript_links_lose_their_target():
    html = markdown_render('[x](javascript:alert(1)) <a href="javascript:alert(2)">y</a>')
    assert "href" not in html
    assert "javascript:alert(2)" not in html


def test_description_headings_sit_below_the_page_headings():
    assert markdown_render("# Duties\n\n## Pay").startswith("<h3>Duties</h3>\n<h4>Pay</h4>")


def test_plain_text_drops_the_markup():
    assert markdown_plain("**Bold** and [a link](https://a.example)") == "Bold and a link"
