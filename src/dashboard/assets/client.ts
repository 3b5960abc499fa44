/**
 * The dashboard's only script, served as a file (`/assets/dashboard.js`; the Content-Security-Policy
 * allows no inline script). It keeps pages live: every second it fetches the server-rendered
 * fragment of the page's live part and swaps it in when it changed, keeping which `<details>` are
 * open. It is this function's own source text, so it must use nothing from outside its body.
 *
 * @since 0.1.0
 */

/** Runs in the browser. @since 0.1.0 @category browser */
export function client(): void {
  const live = document.getElementById("live")
  const source = live?.getAttribute("data-src")
  if (!live || !source) return
  let last = live.innerHTML
  let busy = false
  const status = document.getElementById("live-status")
  const openKeys = () => {
    const open: Record<string, boolean> = {}
    live.querySelectorAll("details[data-key]").forEach((d) => {
      open[d.getAttribute("data-key")!] = (d as HTMLDetailsElement).open
    })
    return open
  }
  const tick = async () => {
    if (busy || document.hidden) return
    const selection = window.getSelection()
    if (selection !== null && selection.toString() !== "") return
    busy = true
    try {
      const response = await fetch(source, { credentials: "same-origin", cache: "no-store" })
      if (!response.ok) {
        if (status) status.textContent = response.status === 401 ? "signed out: open the printed URL" : "offline"
        return
      }
      const text = await response.text()
      if (status) status.textContent = "live"
      if (text === last) return
      const open = openKeys()
      const template = document.createElement("template")
      template.innerHTML = text
      template.content.querySelectorAll("details[data-key]").forEach((d) => {
        const key = d.getAttribute("data-key")!
        if (key in open) (d as HTMLDetailsElement).open = open[key]!
      })
      live.replaceChildren(template.content)
      last = text
    } catch {
      if (status) status.textContent = "offline"
    } finally {
      busy = false
    }
  }
  setInterval(tick, 1000)
  document.addEventListener("click", (event) => {
    const target = event.target as HTMLElement | null
    const action = target?.getAttribute("data-toggle-all")
    if (!action) return
    live.querySelectorAll("details[data-key]").forEach((d) => {
      ;(d as HTMLDetailsElement).open = action === "open"
    })
  })
}
