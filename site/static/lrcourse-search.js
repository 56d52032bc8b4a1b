// Search results on the course's website (see site/lrcourse_site.py).
// Sphinx shows a snippet of each page's text around the word searched for.  That text is the
// page's HTML before MathJax ran, so a formula would show as raw TeX, cut at random: show
// "[formula]" instead.  The "Run this lesson" box, on every page, is left out of the snippets.
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Search === "undefined" || typeof Search.htmlToText !== "function") return;
  const htmlToText = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    doc.querySelectorAll(".math").forEach((el) => el.replaceWith("[formula]"));
    doc.querySelectorAll(".lrcourse-run, .bd-header-article").forEach((el) => el.remove());
    return htmlToText(doc.documentElement.outerHTML, anchor);
  };
});
