// Adds what a page can only make with script: an open shadow root, a data:
// URL image and a blob: URL image.
class ShadowHost extends HTMLElement {
  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = '<style>div{width:150px;height:100px;background:url(/img/shadow-bg.jpg) center/cover}</style>' +
      '<img src="/img/shadow-img.png" width="150" height="100" alt="in shadow"><div></div>';
  }
}
customElements.define('shadow-host', ShadowHost);

(async () => {
  const res = await fetch('/img/small-for-data.png');
  const buf = new Uint8Array(await res.arrayBuffer());
  let s = '';
  for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode.apply(null, buf.subarray(i, i + 0x8000));
  document.getElementById('dataimg').src = 'data:image/png;base64,' + btoa(s);
  const blob = await (await fetch('/img/small-for-blob.png')).blob();
  document.getElementById('blobimg').src = URL.createObjectURL(blob);
  document.body.dataset.ready = '1';
})();
