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
      if (!label || !box) { return; }
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

  if (window.django && window.django.jQuery) { window.django.jQuery(name); }
})();
