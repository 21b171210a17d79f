// Language switch of the bilingual book: 한국어 / English / 둘 다 (both).
// The choice is kept in localStorage across pages; ?lang=ko|en|both in the URL wins.
// CSS (bilingual.css) hides the prose of the language not chosen.
(function () {
  const KEY = "book-lang";
  const LANGS = { ko: "한국어", en: "English", both: "둘 다 / Both" };
  const root = document.documentElement;

  function chosen() {
    const fromUrl = new URLSearchParams(window.location.search).get("lang");
    if (fromUrl in LANGS) {
      localStorage.setItem(KEY, fromUrl);
      return fromUrl;
    }
    const saved = localStorage.getItem(KEY);
    if (saved in LANGS) return saved;
    return (navigator.language || "").toLowerCase().startsWith("ko") ? "ko" : "en";
  }

  function apply(lang) {
    root.dataset.bookLang = lang;
    root.lang = lang === "en" ? "en" : "ko";
    document.querySelectorAll(".lang-switch button").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
    });
    document.querySelectorAll(".colab-badge").forEach(function (link) {
      link.hidden = lang !== "both" && link.dataset.lang !== lang;
    });
  }

  function meta(name) {
    const tag = document.querySelector('meta[name="' + name + '"]');
    return tag ? tag.content : null;
  }

  function colabBadge(lang) {
    const link = document.createElement("a");
    link.className = "colab-badge";
    link.dataset.lang = lang;
    link.href = meta("colab-" + lang);
    link.target = "_blank";
    link.rel = "noopener";
    link.title = lang === "ko" ? "Colab에서 한국어 노트북 열기" : "Open the English notebook in Colab";
    const image = document.createElement("img");
    image.src = meta("colab-badge");
    image.alt = "Open in Colab (" + LANGS[lang] + ")";
    link.append(image, document.createTextNode(lang === "ko" ? " 한국어" : " English"));
    return link;
  }

  function buildBar() {
    const article = document.querySelector("article.bd-article") || document.querySelector("main");
    if (!article) return;
    const bar = document.createElement("div");
    bar.className = "lang-bar";
    const group = document.createElement("div");
    group.className = "lang-switch";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "언어 / Language");
    Object.keys(LANGS).forEach(function (lang) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.lang = lang;
      button.textContent = LANGS[lang];
      button.addEventListener("click", function () {
        localStorage.setItem(KEY, lang);
        apply(lang);
      });
      group.append(button);
    });
    bar.append(group);
    if (meta("colab-ko")) bar.append(colabBadge("ko"), colabBadge("en"));
    article.prepend(bar);
    apply(root.dataset.bookLang);
  }

  apply(chosen());
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", buildBar);
  } else {
    buildBar();
  }
})();
