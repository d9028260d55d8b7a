// The admin's autocomplete boxes (select2) named after their field's label: select2 names its
// combobox after the current choice, which is empty on an add page, and leaves the search box of
// a multiple choice unnamed. Runs after Django's autocomplete.js has built the boxes (its jQuery
// ready handler was registered first, so it runs first).
(function () {
  "use strict";

  function name() {
    document.querySelectorAll("select.admin-autocomplete:not([data-named])").forEach(function (select) {
      var label = document.querySelector('label[for="' + select.id + '"]');
      var box = select.parentElement.querySelector(".select2");
      if (!box) {
        // An inline's hidden template row is never turned into a box: nothing to name.
        if (select.closest(".empty-form")) { select.setAttribute("data-named", ""); }
        return;
      }
      if (!label) {
        // A tabular inline labels its columns in the table head, not with <label for>.
        var cell = select.closest("td");
        var table = cell ? cell.closest("table") : null;
        var head = table && table.tHead ? table.tHead.rows[0].cells[cell.cellIndex] : null;
        var text = head ? head.textContent.trim() : select.name;
        box.querySelectorAll("[role=combobox], .select2-search__field, [role=textbox]").forEach(function (el) {
          el.setAttribute("aria-label", text);
        });
        select.setAttribute("data-named", "");
        return;
      }
      label.id = label.id || select.id + "-label";
      // A single choice shows it in a <span id="select2-…-container">; a multiple one has a search box.
      var rendered = document.getElementById("select2-" + select.id + "-container");
      var names = rendered ? label.id + " " + rendered.id : label.id;
      if (rendered) { rendered.setAttribute("aria-labelledby", names); }
      box.querySelectorAll("[role=combobox], .select2-search__field").forEach(function (el) {
        el.setAttribute("aria-labelledby", names);
      });
      select.setAttribute("data-named", "");
    });
  }

  // A tabular inline's fields are labelled by their column head only: give each its name.
  function nameInlineFields() {
    document.querySelectorAll(".tabular td input, .tabular td select, .tabular td textarea").forEach(function (field) {
      if (field.type === "hidden" || field.getAttribute("aria-label")) { return; }
      if (field.id && document.querySelector('label[for="' + field.id + '"]')) { return; }
      var cell = field.closest("td");
      var table = cell.closest("table");
      var head = table.tHead ? table.tHead.rows[0].cells[cell.cellIndex] : null;
      var text = head ? head.textContent.trim() : field.name;
      field.setAttribute("aria-label", text);
      field.removeAttribute("title");
    });
  }

  if (window.django && window.django.jQuery) { window.django.jQuery(name); }
  document.addEventListener("DOMContentLoaded", nameInlineFields);
  document.addEventListener("formset:added", nameInlineFields);
})();
