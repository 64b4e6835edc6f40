/** A native progress bar with a visible label and value text (read by screen readers). */
export function ProgressBar({
  id,
  label,
  value,
  max,
  valueText,
}: {
  id: string;
  label: string;
  value: number | undefined;
  max: number;
  valueText: string;
}) {
  return (
    <div className="progress">
      <label htmlFor={id}>{label}</label>
      {value === undefined ? (
        <progress id={id} aria-valuetext={valueText} />
      ) : (
        <progress id={id} value={value} max={Math.max(max, 1)} aria-valuetext={valueText} />
      )}
      <p className="progress-text">{valueText}</p>
    </div>
  );
}
