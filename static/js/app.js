/* Leftover: small progressive enhancements. Everything works without this file.
 * - html.no-js → html.js (lets CSS collapse the phone menu only when it can be opened)
 * - menu toggle [data-nav-toggle]
 * - dismiss toasts [data-dismiss="toast"]; success/info toasts fade after a while
 * - auto-submit forms marked [data-autosubmit] when a <select> is changed with the pointer
 * - confirm before submitting forms / clicking buttons with [data-confirm]
 * - HTMX: failed requests become an error toast; a "toast" event (HX-Trigger header:
 *   {"toast": {"kind": "success", "text": "Saved"}}) becomes a toast
 */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  var ICONS = {
    success: "M10 1.5a8.5 8.5 0 1 0 0 17 8.5 8.5 0 0 0 0-17Zm-1.2 12.3L5 10l1.3-1.3 2.5 2.5 4.9-4.9L15 7.6l-6.2 6.2Z",
    error: "M10 1.5a8.5 8.5 0 1 0 0 17 8.5 8.5 0 0 0 0-17Zm-.9 4.5h1.8v5.5H9.1V6Zm0 7h1.8v1.8H9.1V13Z",
    info: "M10 1.5a8.5 8.5 0 1 0 0 17 8.5 8.5 0 0 0 0-17Zm.9 13.5H9.1V9h1.8v6Zm0-7.5H9.1V5.7h1.8v1.8Z"
  };
  var SVG = "http://www.w3.org/2000/svg";

  function svgIcon(path, size) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 20 20");
    svg.setAttribute("width", size);
    svg.setAttribute("height", size);
    svg.setAttribute("aria-hidden", "true");
    var p = document.createElementNS(SVG, "path");
    p.setAttribute("fill", "currentColor");
    p.setAttribute("d", path);
    svg.appendChild(p);
    return svg;
  }

  /* Builds the same markup as the ui.toast macro, with textContent only (never innerHTML). */
  function showToast(kind, text) {
    var region = document.getElementById("toasts");
    if (!region || !text) return;
    if (!ICONS[kind]) kind = "info";
    var toast = document.createElement("div");
    toast.className = "toast toast-" + kind;
    if (kind === "error") toast.setAttribute("role", "alert");
    var icon = document.createElement("span");
    icon.className = "toast-icon";
    icon.setAttribute("aria-hidden", "true");
    icon.appendChild(svgIcon(ICONS[kind], 20));
    var p = document.createElement("p");
    p.className = "toast-text";
    var sr = document.createElement("span");
    sr.className = "visually-hidden";
    sr.textContent = (kind === "error" ? "Error: " : kind === "success" ? "Success: " : "Note: ");
    p.appendChild(sr);
    p.appendChild(document.createTextNode(String(text)));
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("data-dismiss", "toast");
    close.setAttribute("aria-label", "Dismiss message");
    close.appendChild(svgIcon("m5.3 4 4.7 4.7L14.7 4 16 5.3 11.3 10l4.7 4.7-1.3 1.3-4.7-4.7L5.3 16 4 14.7 8.7 10 4 5.3z", 16));
    toast.appendChild(icon);
    toast.appendChild(p);
    toast.appendChild(close);
    region.appendChild(toast);
    scheduleFade(toast);
  }

  function dismiss(toast) {
    if (toast && toast.parentNode) toast.parentNode.removeChild(toast);
  }

  /* Errors stay until dismissed; the rest leave after 8 s unless hovered or focused. */
  function scheduleFade(toast) {
    if (toast.classList.contains("toast-error")) return;
    window.setTimeout(function () {
      if (toast.matches(":hover") || toast.contains(document.activeElement)) {
        scheduleFade(toast);
      } else {
        dismiss(toast);
      }
    }, 8000);
  }

  function errorMessage(status) {
    if (status === 403) return "Your session expired or the form is stale — reload the page and try again.";
    if (status === 404) return "That item no longer exists. Reload the page to see the current state.";
    if (status === 413) return "That upload is too large.";
    if (status === 429) return "Too many requests — wait a moment and try again.";
    if (status >= 500) return "Something went wrong on our side. Please try again in a moment.";
    return "The request failed (error " + status + "). Reload the page and try again.";
  }

  function confirmed(el) {
    var message = el && el.getAttribute("data-confirm");
    return !message || window.confirm(message);
  }

  /* Submit: a form or its submit button may carry data-confirm. Capture phase, so a cancelled
   * confirm also stops HTMX (which listens on the form itself). */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    if (submitter && submitter.hasAttribute("data-confirm")) {
      if (!confirmed(submitter)) { event.preventDefault(); event.stopImmediatePropagation(); }
      return;
    }
    if (form.hasAttribute && form.hasAttribute("data-confirm") && !confirmed(form)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;

    var dismissButton = target.closest("[data-dismiss='toast']");
    if (dismissButton) { dismiss(dismissButton.closest(".toast")); return; }

    var toggle = target.closest("[data-nav-toggle]");
    if (toggle) {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      document.body.classList.toggle("nav-open", open);
      return;
    }

    /* Links and non-submit buttons (e.g. hx-post) with data-confirm; submit buttons are
     * handled by the submit listener so the question is asked once. */
    var asking = target.closest("[data-confirm]");
    if (asking && asking.tagName !== "FORM" && !(asking.tagName === "BUTTON" && asking.type === "submit" && asking.form)) {
      if (!confirmed(asking)) { event.preventDefault(); event.stopImmediatePropagation(); }
    }
  }, true);

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var toggle = document.querySelector("[data-nav-toggle][aria-expanded='true']");
    if (toggle) {
      toggle.setAttribute("aria-expanded", "false");
      document.body.classList.remove("nav-open");
      toggle.focus();
    }
  });

  /* Auto-submit on change only after a pointer choice: with the keyboard, arrow keys change a
   * closed <select> one option at a time, so keyboard users use the visible button instead. */
  var lastInputWasKeyboard = false;
  document.addEventListener("keydown", function () { lastInputWasKeyboard = true; }, true);
  document.addEventListener("pointerdown", function () { lastInputWasKeyboard = false; }, true);
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLSelectElement) || lastInputWasKeyboard) return;
    var form = target.form;
    if (form && form.hasAttribute("data-autosubmit")) {
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }
  });

  /* HTMX integration (htmx is loaded with defer, after this file). */
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail && event.detail.xhr;
    showToast("error", errorMessage(xhr ? xhr.status : 0));
  });
  document.addEventListener("htmx:sendError", function () {
    showToast("error", "Can't reach Leftover. Check your connection and try again.");
  });
  document.addEventListener("toast", function (event) {
    var detail = event.detail || {};
    showToast(detail.kind || "info", detail.text || detail.value);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var existing = document.querySelectorAll("#toasts .toast");
    for (var i = 0; i < existing.length; i++) scheduleFade(existing[i]);
  });

  window.leftover = { toast: showToast };
})();
