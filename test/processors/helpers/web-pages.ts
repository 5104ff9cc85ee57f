/** Web pages for tests: an article page and a list page with repeated containers. */
export const para = (n: number) =>
  `Paragraph ${n}: open hardware lets communities repair, adapt and share the tools they depend on, which keeps them in use for longer and keeps knowledge local.`;

export const ARTICLE = `<!doctype html><html lang="de"><head><title>Open Hardware | Conf</title>
<meta name="author" content="Jane Doe"><meta name="description" content="A talk on open hardware"></head><body>
<nav><a href="/">Home</a> <a href="/about">About</a></nav>
<article><h1>Open Hardware for All</h1>
<p>${para(1)} See <a href="/talks/42">the talk page</a>.</p><p>${para(2)}</p><p>${para(3)}</p>
<table><tr><th>Day</th><th>Room</th></tr><tr><td>2024-11-08</td><td>Seminar 2</td></tr></table>
<img src="img/photo.png" alt="Photo"></article>
<footer>Impressum</footer><script>var tracking = 1;</script></body></html>`;

export const LIST_PAGE = `<!doctype html><html><head><title>Program</title></head><body><ul>
${[1, 2, 3]
  .map(
    (i) => `<li class="single-element sfscon"><a class="title" href="/talk/${i}">Talk ${i}</a>
<span class="speaker"> Speaker ${i} </span><time>${10 + i}:00</time></li>`,
  )
  .join('\n')}
<li class="single-element sfscon"><span class="other">no fields here</span></li></ul></body></html>`;
