// The prompt picker: choosing a category narrows the prompt list to it.
// Works on the agenda page and in the facilitator console; without this
// script the list still shows every prompt, grouped by category.

export function wirePicker(root) {
  const category = root.querySelector('[data-role="category"]');
  const prompt = root.querySelector('[data-role="prompt"]');
  if (!category || !prompt) return;
  const groups = Array.from(prompt.querySelectorAll("optgroup"));
  const filter = () => {
    const chosen = category.value;
    for (const group of groups) {
      const match = !chosen || group.dataset.category === chosen;
      group.hidden = !match;
      group.disabled = !match;
    }
    const selected = prompt.selectedOptions[0];
    if (!selected || selected.parentElement.disabled) {
      const first = prompt.querySelector("optgroup:not([disabled]) option");
      if (first) prompt.value = first.value;
    }
  };
  category.addEventListener("change", filter);
  filter();
}

for (const root of document.querySelectorAll("[data-prompt-picker]")) wirePicker(root);
