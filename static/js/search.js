/* Case2Code suggestions under every search box marked data-search-suggest, and "/" to reach
   the box. Without this file each box is still a plain GET form to the search page.

   The pattern is the ARIA combobox with a listbox popup: focus stays in the text box, the
   highlighted option is named by aria-activedescendant, and arrow keys, Enter and Escape work
   as in any native list. Suggestions are built with textContent, never as HTML. */
(function () {
  "use strict";

  var DELAY_MS = 120;
  var MIN_LENGTH = 2;
  var boxes = 0;

  function isTyping(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function span(className, text) {
    var element = document.createElement("span");
    element.className = className;
    element.textContent = text;
    return element;
  }

  function enhance(input) {
    var form = input.form;
    var url = form && form.getAttribute("data-suggest-url");
    if (!url) {
      return;
    }
    // A box in a form (a list of codes, not a search) adds the chosen code to its value
    // instead of opening the code's page.
    var fills = input.type !== "search" && !input.classList.contains("site-search__input");
    boxes += 1;
    var listId = "search-suggestions-" + boxes;
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "search-suggest";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggested codes");
    list.hidden = true;
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    var host = fills ? input.parentNode : form;
    host.classList.add("search-suggest-host");
    host.appendChild(list);
    host.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    var options = [];
    var active = -1;
    var timer = null;
    var pending = null;
    var cache = {};

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index < 0) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    }

    // Options hold text only (a link inside an option would be a second focus stop); where
    // each one leads is kept in data-href and followed on Enter or a click.
    function option(id, href) {
      var item = document.createElement("li");
      item.id = id;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.className = "search-suggest__option";
      item.setAttribute("data-href", href);
      return item;
    }

    function lastWord() {
      var words = input.value.split(/[\s,;]+/);
      return words[words.length - 1] || "";
    }

    function follow(item) {
      if (fills) {
        var code = item.getAttribute("data-code");
        var value = input.value;
        var typed = lastWord();
        input.value = value.slice(0, value.length - typed.length) + code + " ";
        close();
        return;
      }
      window.location.assign(item.getAttribute("data-href"));
    }

    function render(data) {
      list.textContent = "";
      options = [];
      (data.results || []).forEach(function (result, i) {
        var item = option(listId + "-" + i, result.url);
        item.setAttribute("data-code", result.code);
        item.appendChild(span("search-suggest__code", result.code));
        item.appendChild(span("search-suggest__system", result.system));
        item.appendChild(span("search-suggest__title", result.title));
        options.push(item);
        list.appendChild(item);
      });
      if (!fills) {
        var all = option(listId + "-all", data.search_url);
        all.classList.add("search-suggest__all");
        all.textContent = "Search for “" + data.query + "”";
        options.push(all);
        list.appendChild(all);
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(-1);
      var count = fills ? options.length : options.length - 1;
      status.textContent = count
        ? count + (count === 1 ? " suggestion" : " suggestions") + ", use the arrow keys to choose"
        : "No suggestions; press Enter to search";
    }

    function suggest() {
      var query = fills ? lastWord() : input.value.trim();
      if (query.length < MIN_LENGTH) {
        close();
        return;
      }
      if (cache[query]) {
        render(cache[query]);
        return;
      }
      if (pending) {
        pending.abort();
      }
      pending = new AbortController();
      fetch(url + "?q=" + encodeURIComponent(query), {
        headers: { Accept: "application/json" },
        signal: pending.signal,
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          if (!data || (fills ? lastWord() : input.value.trim()) !== query) {
            return;
          }
          cache[query] = data;
          if (document.activeElement === input) {
            render(data);
          }
        })
        .catch(function () {
          /* an aborted or failed request leaves the plain form working */
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(suggest, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!open) {
          suggest();
          return;
        }
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        var next = active + step;
        if (next >= options.length) {
          next = -1;
        } else if (next < -1) {
          next = options.length - 1;
        }
        highlight(next);
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault();
          follow(options[active]);
        }
      } else if (event.key === "Escape") {
        if (open) {
          event.preventDefault();
          close();
        } else if (input.value && !fills) {
          event.preventDefault();
          input.value = "";
        }
      }
    });

    input.addEventListener("blur", function () {
      window.setTimeout(close, 150);
    });

    // Keep the focus in the box while a suggestion is clicked, then follow it.
    list.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    list.addEventListener("click", function (event) {
      var item = event.target.closest("[role=option]");
      if (item) {
        follow(item);
      }
    });
  }

  document.querySelectorAll("input[data-search-suggest]").forEach(enhance);

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (isTyping(event.target)) {
      return;
    }
    var box =
      document.getElementById("search-page-q") ||
      document.querySelector("input[data-search-suggest]");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });
})();
