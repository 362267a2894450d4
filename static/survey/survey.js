// Everything here is optional: every page works without JavaScript.

// Stop a second click from sending a form twice. The server is idempotent anyway.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.method === "dialog") return;
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = true;
});

// A page restored by the back button must be usable again.
window.addEventListener("pageshow", () => {
  for (const form of document.forms) {
    delete form.dataset.sent;
    for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = false;
  }
});

// The browser's response time: from both images decoded and painted to the click that sends the answer.
// The server keeps it beside its own time (from the page's request), which also counts the network.
for (const form of document.querySelectorAll("form[data-timed]")) {
  const images = [...form.querySelectorAll("img[data-timed-image]")];
  let shownAt = null;
  Promise.all(images.map((image) => image.decode()))
    .then(() => requestAnimationFrame(() => requestAnimationFrame(() => {
      shownAt = performance.now();
      form.dataset.shown = "1"; // for the browser tests, which wait for it
    })))
    .catch(() => {}); // an image that cannot be shown: no browser time, the server's still counts
  form.addEventListener("submit", () => {
    if (shownAt !== null) form.elements.client_ms.value = Math.max(1, Math.round(performance.now() - shownAt));
  }, { capture: true });
}

// Keys 1-5 choose an option (not while typing, and not with a modifier held).
document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey || document.querySelector("dialog[open]")) return;
  if (event.target.matches && event.target.matches("input[type=text], textarea, select")) return;
  const radios = document.querySelectorAll(".question-form input[name=option]");
  const index = Number(event.key) - 1;
  if (!Number.isInteger(index) || index < 0 || index >= radios.length) return;
  radios[index].checked = true;
  radios[index].focus();
  event.preventDefault();
});

// "How to read the explanation" opens over the question, which keeps its place and its clock.
for (const link of document.querySelectorAll("a[data-dialog]")) {
  const dialog = document.getElementById(link.dataset.dialog);
  if (!dialog || !dialog.showModal) continue;
  link.addEventListener("click", (event) => {
    event.preventDefault();
    dialog.showModal();
  });
}

// A click on an image enlarges it by the largest whole factor that fits the window, pixels kept sharp.
const zoom = document.getElementById("zoom-dialog");
if (zoom && zoom.showModal) {
  const enlarged = zoom.querySelector("img");
  for (const link of document.querySelectorAll("a[data-zoom]")) {
    link.addEventListener("click", (event) => {
      const source = link.querySelector("img");
      if (!source || !source.naturalWidth) return;
      event.preventDefault();
      const fit = Math.min((innerWidth * 0.9) / source.naturalWidth, (innerHeight * 0.8) / source.naturalHeight);
      const scale = Math.max(1, Math.floor(fit * devicePixelRatio)) / devicePixelRatio;
      enlarged.src = source.currentSrc || source.src;
      enlarged.alt = source.alt + ", enlarged";
      enlarged.width = Math.round(source.naturalWidth * scale);
      enlarged.height = Math.round(source.naturalHeight * scale);
      zoom.showModal();
    });
  }
}

// Sharp pixels wherever an image is drawn at its native size or larger on this screen; smooth when a
// narrow screen has to draw it smaller.
function sharpen() {
  for (const image of document.querySelectorAll("img.shown")) {
    if (!image.naturalWidth) continue;
    const drawn = image.getBoundingClientRect().width * devicePixelRatio;
    image.classList.toggle("crisp", drawn >= image.naturalWidth - 0.5);
  }
}
for (const image of document.querySelectorAll("img.shown")) image.addEventListener("load", sharpen);
addEventListener("resize", sharpen);
sharpen();

// A refused answer comes back with its error by the button: keep it in view.
const error = document.getElementById("option-error");
if (error) error.scrollIntoView({ block: "nearest" });
