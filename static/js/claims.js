/* Claim check: add and remove lines in place, and keyboard shortcuts. Without this file the
   form still works: "Add more lines" asks the server for empty rows, and each row's Remove
   checkbox drops it when the claim is checked.

   Rows are a Django formset (prefix "line"): after any change the rows are renumbered so the
   field names stay line-0 … line-(n-1) and TOTAL_FORMS counts them. */
(function () {
  "use strict";

  var form = document.querySelector("[data-claim-form]");
  if (!form) {
    return;
  }
  var body = form.querySelector("[data-claim-rows]");
  var template = form.querySelector("[data-claim-row-template]");
  var total = form.querySelector("input[name='line-TOTAL_FORMS']");
  var maximum = parseInt(form.querySelector("input[name='line-MAX_NUM_FORMS']").value, 10) || 50;
  var FIELD = /line-(\d+|__prefix__)-/g;
  var NUMBER = /\b(Line|line) (\d+|__number__)\b/g;

  function rows() {
    return Array.prototype.slice.call(body.querySelectorAll("[data-claim-row]"));
  }

  function renumber() {
    rows().forEach(function (row, index) {
      row.querySelectorAll("[name], [id], [for]").forEach(function (element) {
        ["name", "id", "for"].forEach(function (attribute) {
          var value = element.getAttribute(attribute);
          if (value) {
            element.setAttribute(attribute, value.replace(FIELD, "line-" + index + "-"));
          }
        });
      });
      row.querySelectorAll(".visually-hidden").forEach(function (element) {
        element.textContent = element.textContent.replace(NUMBER, "$1 " + (index + 1));
      });
      row.querySelectorAll("button[aria-label]").forEach(function (element) {
        var label = element.getAttribute("aria-label");
        element.setAttribute("aria-label", label.replace(NUMBER, "$1 " + (index + 1)));
      });
      row.querySelector("[data-line-number]").textContent = String(index + 1);
    });
    total.value = String(rows().length);
  }

  function enhance(row) {
    var holder = row.querySelector(".claim-line__remove");
    var checkbox = holder.querySelector("input[type='checkbox']");
    var number = row.querySelector("[data-line-number]").textContent;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "claim-line__remove-button";
    button.textContent = "Remove";
    button.setAttribute("aria-label", "Remove line " + number);
    button.addEventListener("click", function () {
      remove(row);
    });
    checkbox.hidden = true;
    holder.parentNode.appendChild(button);
    holder.hidden = true;
  }

  function add() {
    if (rows().length >= maximum) {
      return null;
    }
    var html = template.innerHTML
      .replace(FIELD, "line-" + rows().length + "-")
      .replace(NUMBER, "$1 " + (rows().length + 1));
    var holder = document.createElement("tbody");
    holder.innerHTML = html;
    var row = holder.querySelector("[data-claim-row]");
    body.appendChild(row);
    enhance(row);
    renumber();
    row.querySelector("input").focus();
    return row;
  }

  function remove(row) {
    var next = row.nextElementSibling;
    if (next && next.classList.contains("claim-line__errors")) {
      next.remove();
    }
    var all = rows();
    var index = all.indexOf(row);
    if (all.length === 1) {
      row.querySelectorAll("input:not([type='checkbox']), select").forEach(function (field) {
        field.value = field.name.slice(-6) === "-units" ? "1" : "";
      });
      row.querySelector("input").focus();
      return;
    }
    row.remove();
    renumber();
    var left = rows();
    left[Math.min(index, left.length - 1)].querySelector("input").focus();
  }

  rows().forEach(enhance);

  var noJsAdd = form.querySelector("[data-no-js-add]");
  var addButton = document.createElement("button");
  addButton.type = "button";
  addButton.className = "button button--secondary";
  addButton.textContent = "Add a line";
  addButton.addEventListener("click", add);
  noJsAdd.parentNode.insertBefore(addButton, noJsAdd);
  noJsAdd.hidden = true;
  form.querySelector("[data-claim-shortcuts]").hidden = false;

  form.addEventListener("keydown", function (event) {
    if (event.altKey && (event.key === "n" || event.key === "N" || event.code === "KeyN")) {
      event.preventDefault();
      add();
    } else if (event.altKey && (event.key === "Delete" || event.key === "Backspace")) {
      var row = event.target.closest && event.target.closest("[data-claim-row]");
      if (row) {
        event.preventDefault();
        remove(row);
      }
    } else if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      form.requestSubmit(form.querySelector("[data-claim-submit]"));
    }
  });
})();
