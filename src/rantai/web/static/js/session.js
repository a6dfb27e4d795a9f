// Every page: logging out also forgets the key this tab held for signing.
import { KEY_STORAGE } from "./rantai.js";

for (const form of document.querySelectorAll("form[data-logout]")) {
  form.addEventListener("submit", () => sessionStorage.removeItem(KEY_STORAGE));
}
