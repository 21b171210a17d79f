// The bar above every article: a link to the same page in the other edition, and the
// Colab badge of this page's notebook. Reading a page remembers its edition, which the
// root page (../index.html) opens next time.
(function () {
  const TEXT = {
    ko: { other: "English edition", otherTitle: "Read this page in English",
          colab: "Colab에서 열기", colabTitle: "이 장의 노트북을 Colab에서 엽니다" },
    en: { other: "한국어판", otherTitle: "이 페이지를 한국어로 읽기",
          colab: "Open in Colab", colabTitle: "Open this chapter's notebook in Colab" },
  };

  function meta(name) {
    const tag = document.querySelector('meta[name="' + name + '"]');
    return tag ? tag.content : null;
  }

  const lang = meta("book-edition");
  if (!(lang in TEXT)) return;
  localStorage.setItem("book-edition", lang);

  function link(className, href, label, title, hreflang) {
    const a = document.createElement("a");
    a.className = className;
    a.href = href;
    a.title = title;
    if (hreflang) {
      a.hreflang = hreflang;
      a.lang = hreflang;
    }
    a.append(document.createTextNode(label));
    return a;
  }

  function buildBar() {
    const article = document.querySelector("article.bd-article") || document.querySelector("main");
    if (!article || article.querySelector(".edition-bar")) return;
    const bar = document.createElement("div");
    bar.className = "edition-bar";
    const other = lang === "ko" ? "en" : "ko";
    const otherLink = link("other-edition", meta("other-edition") + window.location.hash,
                           TEXT[lang].other + " →", TEXT[lang].otherTitle, other);
    otherLink.addEventListener("click", function () { localStorage.setItem("book-edition", other); });
    bar.append(otherLink);
    if (meta("colab")) {
      const badge = link("colab-badge", meta("colab"), TEXT[lang].colab, TEXT[lang].colabTitle);
      badge.target = "_blank";
      badge.rel = "noopener";
      const image = document.createElement("img");
      image.src = meta("colab-logo");
      image.alt = "";
      badge.prepend(image);
      bar.append(badge);
    }
    article.prepend(bar);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", buildBar);
  } else {
    buildBar();
  }
})();
