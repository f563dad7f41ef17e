// The one page layout of the simulated website: plain, mobile-first HTML and CSS, no scripts, so a
// phone-sized web view and a headless browser both work and forms post without JavaScript.
import { escapeHtml } from './http-util';

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f5f8;color:#1c2430}
main{max-width:26rem;margin:0 auto;padding:1.25rem 1rem 2rem}
.card{background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:1.25rem}
h1{font-size:1.3rem;margin:.2rem 0 1rem}
.brand{font-weight:700;color:#2f6fdb;margin-bottom:.75rem}
.logo{display:block;width:100px;height:100px;object-fit:contain;margin:0 auto .75rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=email],input[type=password],input[type=text]{width:100%;padding:.7rem;border:1px solid #c5ccd6;border-radius:8px;font-size:1rem}
.choice{display:flex;align-items:center;gap:.6rem;padding:.7rem;border:1px solid #dde2e8;border-radius:8px;margin:.4rem 0;font-weight:400}
.choice small{display:block;color:#5d6b7c}
.buttons{display:flex;gap:.6rem;margin-top:1.2rem}
button,.button{flex:1;display:inline-block;text-align:center;padding:.8rem;border-radius:8px;border:0;font-size:1rem;font-weight:600;cursor:pointer;text-decoration:none}
.primary{background:#2f6fdb;color:#fff}
.secondary{background:#e4e8ee;color:#1c2430}
.error{color:#b3261e}
p.note{color:#5d6b7c;font-size:.9rem}
`;

/** A complete page; `body` is trusted HTML built with escapeHtml for every dynamic value. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · OctoEverywhere (simulated)</title>
<style>${CSS}</style></head>
<body><main><div class="brand">OctoEverywhere <small>(simulator)</small></div>
<div class="card">${body}</div></main></body></html>`;
}
