/**
 * The heading row of a panel opened over a list (the image view, the mask editor): its title,
 * and a Close button when the panel can be closed.
 */
export function PanelHead({
  titleId,
  title,
  closeLabel,
  onClose,
}: {
  titleId: string;
  title: string;
  closeLabel: string;
  onClose: (() => void) | undefined;
}) {
  return (
    <div className="image-view-head">
      <h3 id={titleId}>{title}</h3>
      {onClose && (
        <button type="button" onClick={onClose}>
          {closeLabel}
        </button>
      )}
    </div>
  );
}
